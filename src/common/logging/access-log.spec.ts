import { Writable } from 'node:stream';
import { pino } from 'pino';
import { AccessLog } from './access-log.js';

function capture(level = 'info') {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, logger: pino({ level }, stream) };
}

describe('AccessLog', () => {
  it('writes the line pino would write for the same fields, through the same stream', async () => {
    const ours = capture();
    const theirs = capture();
    new AccessLog(ours.logger).request('req-1', 'GET', '/api/v1/users/"me"\n', 200, 1.5);
    theirs.logger.info(
      { reqId: 'req-1', method: 'GET', path: '/api/v1/users/"me"\n', status: 200, ms: 1.5 },
      'request completed',
    );
    await new Promise((resolve) => setImmediate(resolve));
    const [mine, pinos] = [JSON.parse(ours.lines[0]), JSON.parse(theirs.lines[0])];
    expect({ ...mine, time: 0 }).toEqual({ ...pinos, time: 0 });
    expect(Object.keys(mine)).toEqual(Object.keys(pinos));
  });

  it('marks a 5xx as an error line, and writes nothing above info', async () => {
    const out = capture();
    new AccessLog(out.logger).request('req-2', 'POST', '/x', 503, 2);
    const quiet = capture('warn');
    const silent = new AccessLog(quiet.logger);
    expect(silent.enabled).toBe(false);
    await new Promise((resolve) => setImmediate(resolve));
    expect(JSON.parse(out.lines[0])).toMatchObject({ level: 50, msg: 'request failed', status: 503 });
    expect(quiet.lines).toEqual([]);
  });
});
