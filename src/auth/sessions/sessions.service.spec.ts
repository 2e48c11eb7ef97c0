import { ConfigModule } from '@nestjs/config';
import { Test, type TestingModule } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppError } from '../../common/errors/app-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import type { RequestMeta } from '../../common/http/request-meta.js';
import { INVALIDATION_BUS } from '../../common/invalidation/invalidation-bus.port.js';
import { LocalInvalidationBus } from '../../common/invalidation/local-invalidation-bus.js';
import { loadConfig } from '../../config/load-config.js';
import { dataSourceOptions } from '../../database/data-source.options.js';
import { LoginSessionEntity } from './login-session.entity.js';
import { SessionsService } from './sessions.service.js';

// Rotation rules run against a real (in-memory SQLite) database: the exactly-once guarantee is
// the database's conditional UPDATE, which a mock could not prove.
const meta: RequestMeta = { ip: '127.0.0.1', requestId: 'r1', userAgent: 'jest' };
const USER = '11111111-1111-4111-8111-111111111111';

async function codeOf(promise: Promise<unknown>): Promise<ErrorCode | 'ok'> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    if (error instanceof AppError) return error.code;
    throw error;
  }
}

describe('SessionsService', () => {
  let moduleRef: TestingModule;
  let sessions: SessionsService;

  beforeAll(async () => {
    const config = loadConfig({ DATABASE_URL: 'sqlite::memory:', LOG_LEVEL: 'silent' });
    moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot({ ignoreEnvFile: true, skipProcessEnv: true, load: [() => config] }),
        TypeOrmModule.forRoot({ ...dataSourceOptions(config.database), migrationsRun: true }),
        TypeOrmModule.forFeature([LoginSessionEntity]),
      ],
      providers: [SessionsService, { provide: INVALIDATION_BUS, useClass: LocalInvalidationBus }],
    }).compile();
    sessions = moduleRef.get(SessionsService);
  });

  afterAll(() => moduleRef.close());

  const refresh = async (token: string) => sessions.rotate(await sessions.findForRefresh(token), token);

  it('rotates: the new token works once, the old one is spent', async () => {
    const login = await sessions.create(USER, meta);
    const first = await refresh(login.refreshToken);
    expect(first.refreshToken).not.toBe(login.refreshToken);
    expect(first.sessionId).toBe(login.sessionId);
    const second = await refresh(first.refreshToken);
    expect(await sessions.isLive(second.sessionId, USER)).toBe(true);
  });

  it('a spent token used again revokes the whole login, newest token included', async () => {
    const login = await sessions.create(USER, meta);
    const next = await refresh(login.refreshToken);
    expect(await codeOf(refresh(login.refreshToken))).toBe(ErrorCode.REFRESH_TOKEN_REUSED);
    expect(await codeOf(refresh(next.refreshToken))).toBe(ErrorCode.REFRESH_TOKEN_INVALID);
    expect(await sessions.isLive(login.sessionId, USER)).toBe(false);
  });

  it('of 8 concurrent refreshes with one token exactly one wins', async () => {
    const login = await sessions.create(USER, meta);
    const results = await Promise.all(Array.from({ length: 8 }, () => codeOf(refresh(login.refreshToken))));
    expect(results.filter((r) => r === 'ok')).toHaveLength(1);
    expect(results.filter((r) => r !== 'ok').every((r) => r === ErrorCode.REFRESH_TOKEN_REUSED)).toBe(true);
  });

  it('refuses made-up and malformed tokens without touching the login', async () => {
    const login = await sessions.create(USER, meta);
    const forged = `${login.sessionId}.5.${'A'.repeat(43)}`;
    expect(await codeOf(refresh(forged))).toBe(ErrorCode.REFRESH_TOKEN_INVALID);
    expect(await codeOf(refresh('nonsense'))).toBe(ErrorCode.REFRESH_TOKEN_INVALID);
    expect(await codeOf(refresh(`22222222-2222-4222-8222-222222222222.0.${'A'.repeat(43)}`))).toBe(
      ErrorCode.REFRESH_TOKEN_INVALID,
    );
    expect(await sessions.isLive(login.sessionId, USER)).toBe(true);
  });

  it('a made-up token of an older generation is unknown (40102), not reuse: the login lives on', async () => {
    const login = await sessions.create(USER, meta);
    const next = await refresh(login.refreshToken);
    // What anyone who has seen one access token (its sid) could send, with or without a tag.
    for (const forged of [
      `${login.sessionId}.0.${'A'.repeat(43)}`,
      `${login.sessionId}.0.${'A'.repeat(43)}.${'A'.repeat(22)}`,
      // A real spent token's nonce under another generation: the tag covers the generation.
      login.refreshToken.replace(`${login.sessionId}.0.`, `${login.sessionId}.1.`),
    ]) {
      expect(await codeOf(refresh(forged))).toBe(ErrorCode.REFRESH_TOKEN_INVALID);
    }
    expect(await sessions.isLive(login.sessionId, USER)).toBe(true);
    expect(await codeOf(refresh(next.refreshToken))).toBe('ok');
  });

  it('a token issued before tags existed still refreshes, and can never declare reuse', async () => {
    const login = await sessions.create(USER, meta);
    const legacySpent = `${login.sessionId}.0.${'B'.repeat(43)}`;
    await refresh(login.refreshToken);
    expect(await codeOf(refresh(legacySpent))).toBe(ErrorCode.REFRESH_TOKEN_INVALID);
    expect(await sessions.isLive(login.sessionId, USER)).toBe(true);
  });

  it('logout of all devices ends every login of the user at once', async () => {
    const other = '33333333-3333-4333-8333-333333333333';
    const a = await sessions.create(other, meta);
    const b = await sessions.create(other, meta);
    expect(await sessions.revokeAllForUser(other, 'logout_all')).toBe(2);
    expect(await sessions.isLive(a.sessionId, other)).toBe(false);
    expect(await sessions.isLive(b.sessionId, other)).toBe(false);
    expect(await codeOf(refresh(b.refreshToken))).toBe(ErrorCode.REFRESH_TOKEN_INVALID);
  });

  it('a session is never live for another user id', async () => {
    const login = await sessions.create(USER, meta);
    expect(await sessions.isLive(login.sessionId, '44444444-4444-4444-8444-444444444444')).toBe(false);
  });
});
