import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source.options.js';

/**
 * A TCP proxy to MariaDB whose open connections can be made silent (bytes dropped both ways, nothing
 * closed: a network that stops answering), while new connections still go through.
 */
async function silenceableProxy(targetPort: number) {
  const pairs = new Set<{ client: Socket; server: Socket; silent: boolean }>();
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    const pair = { client, server: upstream, silent: false };
    pairs.add(pair);
    client.on('data', (data) => !pair.silent && upstream.write(data));
    upstream.on('data', (data) => !pair.silent && client.write(data));
    const end = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    for (const socket of [client, upstream]) socket.on('error', end).on('close', end);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    silenceOpenConnections: () => pairs.forEach((pair) => (pair.silent = true)),
    close: async () => {
      pairs.forEach((pair) => {
        pair.client.destroy();
        pair.server.destroy();
      });
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer!: NodeJS.Timeout;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

describe('the request path query time limit (real MariaDB)', () => {
  it('on MariaDB, a query after one that timed out on a silent network gets a fresh connection, not a hang', async () => {
    const proxy = await silenceableProxy(3306);
    const options = dataSourceOptions(
      {
        type: 'mysql',
        url: `mysql://root@127.0.0.1:${proxy.port}/mysql`,
        migrationsRun: false,
        synchronize: false,
      },
      { queryTimeoutMs: 300 },
    );
    // One connection in the pool, so the query after the timeout is offered the very same one.
    const dataSource = new DataSource({
      ...options,
      poolSize: 1,
      extra: { connectionLimit: 1, maxIdle: 1, queueLimit: 10 },
    } as typeof options);
    await dataSource.initialize();
    try {
      expect(await dataSource.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
      proxy.silenceOpenConnections();
      await expect(
        within(2000, dataSource.query('SELECT 2 AS two'), 'timed-out query'),
      ).rejects.toMatchObject({
        driverError: { code: 'PROTOCOL_SEQUENCE_TIMEOUT' },
      });
      // New connections go through: the next query must get one and answer.
      expect(await within(2000, dataSource.query('SELECT 3 AS three'), 'next query')).toEqual([{ three: 3 }]);
    } finally {
      await proxy.close();
      await dataSource.destroy().catch(() => undefined);
    }
  }, 15_000);
});
