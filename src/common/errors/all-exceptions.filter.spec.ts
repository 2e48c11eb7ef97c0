import { QueryFailedError } from 'typeorm';
import { loggable } from './all-exceptions.filter.js';

describe('loggable (what the log keeps of an unexpected error)', () => {
  it("keeps a database error's kind, code and frames, never the values it quotes", () => {
    const driverError = Object.assign(
      new Error("Duplicate entry 'o_secret_openid' for key 'uq_users_openid'"),
      {
        code: 'ER_DUP_ENTRY',
      },
    );
    const error = new QueryFailedError('INSERT INTO users VALUES (?)', ['o_secret_openid'], driverError);
    const line = JSON.stringify(loggable(error));
    expect(line).not.toContain('o_secret_openid');
    expect(loggable(error)).toMatchObject({ type: 'QueryFailedError', code: 'ER_DUP_ENTRY' });
    expect(String(loggable(error).stack)).toMatch(/all-exceptions\.filter\.spec/);
  });

  it('keeps the message of other errors', () => {
    expect(loggable(new TypeError('x is undefined'))).toMatchObject({
      type: 'TypeError',
      message: 'x is undefined',
    });
  });
});
