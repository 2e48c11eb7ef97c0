// The reference: the fastest a Node HTTP service on this machine answers a tiny JSON body.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/', async () => ({ hello: 'world' }));
await app.listen({ port: Number(process.argv[2] ?? 3100), host: '127.0.0.1' });
process.stdout.write('ready\n');
