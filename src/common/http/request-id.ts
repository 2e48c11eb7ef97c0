import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Fastify's genReqId: echo a sane client X-Request-Id, else make one. The id is also put on the raw
 * request so pino-http (which runs as middleware on the raw request) logs the same id.
 */
export function requestIdFor(req: IncomingMessage): string {
  const header = req.headers['x-request-id'];
  const id = typeof header === 'string' && SANE_ID.test(header) ? header : randomUUID();
  (req as IncomingMessage & { id?: string }).id = id;
  return id;
}
