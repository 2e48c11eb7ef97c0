import { Logger, type LoggerService } from '@nestjs/common';
import { QueryLogger, summary } from './query-logger.js';

describe('QueryLogger', () => {
  const lines: string[] = [];
  const capture: LoggerService = {
    log: (message: unknown) => lines.push(String(message)),
    warn: (message: unknown) => lines.push(String(message)),
    error: (message: unknown) => lines.push(String(message)),
    debug: (message: unknown) => lines.push(String(message)),
  };

  beforeAll(() => Logger.overrideLogger(capture));
  beforeEach(() => (lines.length = 0));

  it('logs a slow query as its statement and table, never its parameters', () => {
    new QueryLogger().logQuerySlow(
      2400,
      'SELECT `UserEntity`.`id` AS `UserEntity_id`, `UserEntity`.`openid` AS `UserEntity_openid` FROM `users` `UserEntity` WHERE `UserEntity`.`openid` = ?',
      ['o_secret_openid_value'],
    );
    expect(lines).toEqual(['slow query (2400 ms): SELECT … users']);
    expect(summary('UPDATE `login_sessions` SET `revoked_at` = ? WHERE `id` = ?')).toBe(
      'UPDATE … login_sessions',
    );
    expect(summary('INSERT INTO `audit_events`(`id`) VALUES (?)')).toBe('INSERT … audit_events');
    expect(summary('SELECT 1')).toBe('SELECT');
  });

  it('destroys the connection of a query that timed out, and only of such a query', () => {
    let destroyed = 0;
    const runner = { databaseConnection: { destroy: () => destroyed++ } } as never;
    const logger = new QueryLogger();
    logger.logQueryError(
      Object.assign(new Error('Query inactivity timeout'), { code: 'ER_DUP_ENTRY' }),
      'q',
      [],
      runner,
    );
    logger.logQueryError('a string error', 'q', [], runner);
    expect(destroyed).toBe(0);
    logger.logQueryError(
      Object.assign(new Error('Query inactivity timeout'), { code: 'PROTOCOL_SEQUENCE_TIMEOUT' }),
      'q',
      [],
      runner,
    );
    expect(destroyed).toBe(1);
    expect(lines).toEqual([]); // the caller logs errors, with the request id
  });
});
