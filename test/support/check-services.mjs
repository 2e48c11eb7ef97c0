#!/usr/bin/env node
// Run by `npm test` before jest: the e2e suite needs MariaDB and Redis on this machine. Each port
// gets one TCP connection attempt (2 s); for every service that is down, one line says how to start
// it, and the script exits 1 so jest does not start into a wall of connection errors.
import { connect } from 'node:net';

const TIMEOUT_MS = 2000;

const services = [
  {
    name: 'MariaDB',
    port: 3306,
    start: 'start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd',
  },
  {
    name: 'Redis',
    port: 6379,
    start: 'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no',
  },
];

function reachable(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), TIMEOUT_MS);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

const results = await Promise.all(
  services.map(async (service) => ({ ...service, up: await reachable(service.port) })),
);
const down = results.filter((service) => !service.up);
for (const service of down) {
  console.error(
    `${service.name} is not reachable on 127.0.0.1:${service.port}; start it with: ${service.start}`,
  );
}
if (down.length > 0) {
  console.error('(with Docker: docker compose -f docker-compose.test.yml up -d starts both)');
}
process.exit(down.length > 0 ? 1 : 0);
