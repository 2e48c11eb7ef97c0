import { Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { QueryFailedError } from 'typeorm';
import { sendError } from '../errors/all-exceptions.filter.js';
import { createPinoLogger, PinoNestLogger, prettyDestination } from './pino-logger.js';

/** A pino destination keeping every line. */
function capture() {
  const lines: string[] = [];
  return { lines, destination: { write: (line: string) => void lines.push(line) } };
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- log lines are free-form JSON
const parsed = (lines: string[]) => lines.map((line) => JSON.parse(line) as Record<string, any>);

describe('log lines', () => {
  it("keep a database error's code where the request that failed logs it", () => {
    const { lines, destination } = capture();
    Logger.overrideLogger(new PinoNestLogger(createPinoLogger('info', { destination })));
    const driverError = Object.assign(new Error("Unknown column 'o_secret_openid' in 'where clause'"), {
      code: 'ER_BAD_FIELD_ERROR',
    });
    const error = new QueryFailedError(
      'SELECT * FROM users WHERE openid = ?',
      ['o_secret_openid'],
      driverError,
    );
    const reply = { header: () => reply, status: () => reply, send: () => reply };
    const request = { id: 'req-1', raw: { errored: null, readableAborted: false } };
    sendError(
      error,
      request as unknown as FastifyRequest,
      reply as unknown as FastifyReply,
      new Logger('Errors'),
    );

    const [line] = parsed(lines);
    expect(line).toMatchObject({ level: 50, context: 'Errors', requestId: 'req-1', msg: 'unexpected error' });
    expect(line.err).toMatchObject({ type: 'QueryFailedError', code: 'ER_BAD_FIELD_ERROR' });
    expect(lines.join('')).not.toContain('o_secret_openid');
  });

  it('censor the wx.login and phone codes of request and WeChat payloads, and every secret by key', () => {
    const { lines, destination } = capture();
    const logger = createPinoLogger('info', { destination });
    logger.warn({ body: { code: 'wx-login-code-1' } }, 'a');
    logger.warn({ req: { body: { code: 'wx-login-code-2' } } }, 'b');
    logger.warn({ call: { params: { js_code: 'wx-login-code-3' } }, payload: { code: 'phone-code-4' } }, 'c');
    logger.warn({ err: { code: 'ECONNREFUSED' }, driverError: { code: 'ER_LOCK_DEADLOCK' } }, 'd');
    logger.warn(
      {
        headers: { authorization: 'Bearer eyJ.secret.token' },
        user: { openid: 'o_openid_5', sessionKey: 'session-key-6', phone: '13800138000' },
        err: new QueryFailedError('INSERT', ['o_openid_7', '13800138001'], new Error('x')),
      },
      'e',
    );
    const text = lines.join('');
    for (const secret of [
      'wx-login-code',
      'phone-code-4',
      'eyJ.secret.token',
      'o_openid_5',
      'session-key-6',
      '13800138000',
      'o_openid_7',
      '13800138001',
    ]) {
      expect([secret, text.includes(secret)]).toEqual([secret, false]);
    }
    const [, , , diagnostics] = parsed(lines);
    expect(diagnostics).toMatchObject({
      err: { code: 'ECONNREFUSED' },
      driverError: { code: 'ER_LOCK_DEADLOCK' },
    });
  });

  it('keep the message of a Nest logger call that passes fields and a text', () => {
    const { lines, destination } = capture();
    new PinoNestLogger(createPinoLogger('info', { destination })).warn(
      { requestId: 'r' },
      'dependency unavailable',
      'Errors',
    );
    expect(parsed(lines)[0]).toMatchObject({
      msg: 'dependency unavailable',
      context: 'Errors',
      requestId: 'r',
    });
  });

  it('are human-readable and still censored when pretty (development on a terminal)', () => {
    const { lines, destination } = capture();
    const logger = new PinoNestLogger(createPinoLogger('info', { pretty: true, destination }));
    logger.log({ msg: 'listening', body: { code: 'wx-login-code-8' } }, 'Bootstrap');
    const text = lines.join('');
    expect(() => JSON.parse(lines[0])).toThrow();
    expect(text).toMatch(/INFO.*\[Bootstrap\] listening/);
    expect(text).not.toContain('wx-login-code-8');
  });

  it('fall back to JSON when pino-pretty is not installed (production install)', () => {
    const missing = () => {
      throw Object.assign(new Error("Cannot find module 'pino-pretty'"), { code: 'MODULE_NOT_FOUND' });
    };
    expect(prettyDestination(capture().destination, missing)).toBeUndefined();
  });
});
