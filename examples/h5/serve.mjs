// Serves the example page on http://127.0.0.1:8080 (PORT to change it), and the built H5 package
// (sdk/h5/dist, made by `npm run build:sdk`) under /sdk/. No dependency: node:http only.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const sdk = fileURLToPath(new URL('../../sdk/h5/dist/', import.meta.url));
const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8' };

export function serve(port = Number(process.env.PORT ?? 8080), host = '127.0.0.1') {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
    const file = path.startsWith('/sdk/')
      ? join(sdk, path.slice(5))
      : join(here, path === '/' ? 'index.html' : path);
    if (!file.startsWith(here) && !file.startsWith(sdk)) return res.writeHead(404).end();
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'Content-Type': types[extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  return new Promise((done) => server.listen(port, host, () => done(server)));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const server = await serve();
  console.error(`example page on http://127.0.0.1:${server.address().port}/`);
}
