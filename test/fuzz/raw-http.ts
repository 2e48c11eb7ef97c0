/**
 * A minimal HTTP/1.1 client over a bare TCP socket. The fuzz needs what ordinary clients refuse to
 * send (a space or a control character in a target, duplicate or over-long headers, a body without
 * a content type, contradicting framing headers), and the exact bytes of what comes back.
 */
import { connect } from 'node:net';

export interface RawRequest {
  method: string;
  /** The request target exactly as sent (already percent-encoded, or deliberately not). */
  target: string;
  /** Sent in this order, duplicates allowed, values as given. */
  headers: Array<[string, string]>;
  body?: Buffer;
  /** When set, these bytes are sent instead of anything built from the fields above. */
  raw?: Buffer;
}

export interface RawResponse {
  status: number;
  /** Lower-cased names; repeated headers joined with ", " (set-cookie aside, none matter here). */
  headers: Record<string, string>;
  body: Buffer;
  text: string;
  /** From the first byte written to the last byte of the answer read. */
  ms: number;
}

export function encodeRequest(port: number, req: RawRequest): Buffer {
  if (req.raw) return req.raw;
  const names = new Set(req.headers.map(([n]) => n.toLowerCase()));
  const headers: Array<[string, string]> = [];
  if (!names.has('host')) headers.push(['Host', `127.0.0.1:${port}`]);
  // One request per connection: the answer ends when the server closes, whatever its framing.
  if (!names.has('connection')) headers.push(['Connection', 'close']);
  headers.push(...req.headers);
  if (req.body && !names.has('content-length') && !names.has('transfer-encoding')) {
    headers.push(['Content-Length', String(req.body.length)]);
  }
  const head = `${req.method} ${req.target} HTTP/1.1\r\n${headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`;
  return Buffer.concat([Buffer.from(head, 'utf8'), req.body ?? Buffer.alloc(0)]);
}

export function send(port: number, req: RawRequest, timeoutMs = 5000): Promise<RawResponse> {
  const bytes = encodeRequest(port, req);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const started = process.hrtime.bigint();
    const socket = connect({ host: '127.0.0.1', port });
    const finish = (error?: Error): void => {
      if (settled) return;
      const buffer = Buffer.concat(chunks);
      const parsed = parseResponse(buffer, error !== undefined);
      if (parsed === 'incomplete' && !error) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (parsed === 'incomplete' || parsed === 'malformed') {
        const what =
          buffer.length === 0
            ? 'no answer at all'
            : `an unreadable answer ${JSON.stringify(buffer.toString('latin1').slice(0, 300))}`;
        reject(new Error(`${error?.message ?? 'connection closed'} after ${ms.toFixed(0)} ms with ${what}`));
        return;
      }
      resolve({ ...parsed, ms });
    };
    const timer = setTimeout(() => finish(new Error(`no complete answer within ${timeoutMs} ms`)), timeoutMs);
    socket.on('connect', () => {
      // The server may answer (413, 400) and close before it has read everything: not an error.
      socket.write(bytes, () => undefined);
    });
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      finish();
    });
    socket.on('end', () => finish(new Error('connection closed')));
    socket.on('close', () => finish(new Error('connection closed')));
    socket.on('error', (error) => {
      // A reset after the answer arrived (the server closed with our body unread) is fine.
      if (Buffer.concat(chunks).length === 0 && error.message.includes('EPIPE')) return;
      finish(error);
    });
  });
}

type Parsed = Omit<RawResponse, 'ms'>;

/** One complete answer from `buffer` (interim 1xx answers skipped), or why there is none yet. */
export function parseResponse(buffer: Buffer, closed: boolean): Parsed | 'incomplete' | 'malformed' {
  let offset = 0;
  for (;;) {
    const end = buffer.indexOf('\r\n\r\n', offset, 'latin1');
    if (end < 0) return 'incomplete';
    const head = buffer.subarray(offset, end).toString('latin1');
    const [statusLine, ...lines] = head.split('\r\n');
    const match = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(statusLine);
    if (!match) return 'malformed';
    const status = Number(match[1]);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon <= 0) return 'malformed';
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    const bodyStart = end + 4;
    if (status >= 100 && status < 200) {
      offset = bodyStart;
      continue;
    }
    let body: Buffer;
    if (/\bchunked\b/i.test(headers['transfer-encoding'] ?? '')) {
      const decoded = dechunk(buffer.subarray(bodyStart));
      if (decoded === 'incomplete' || decoded === 'malformed') return decoded;
      body = decoded;
    } else if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      if (!Number.isInteger(length) || length < 0) return 'malformed';
      if (buffer.length - bodyStart < length) return 'incomplete';
      body = buffer.subarray(bodyStart, bodyStart + length);
    } else {
      // Framed by the end of the connection: complete only once it has closed.
      if (!closed) return 'incomplete';
      body = buffer.subarray(bodyStart);
    }
    return { status, headers, body, text: body.toString('utf8') };
  }
}

function dechunk(data: Buffer): Buffer | 'incomplete' | 'malformed' {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', offset, 'latin1');
    if (lineEnd < 0) return 'incomplete';
    const size = parseInt(data.subarray(offset, lineEnd).toString('latin1').split(';')[0], 16);
    if (Number.isNaN(size)) return 'malformed';
    if (size === 0) return Buffer.concat(parts);
    const start = lineEnd + 2;
    if (data.length < start + size + 2) return 'incomplete';
    parts.push(data.subarray(start, start + size));
    offset = start + size + 2;
  }
}
