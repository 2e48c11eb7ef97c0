import { ErrorCode } from '../common/errors/error-code.js';
import { META, outcome, unitWorld } from '../../test/support/unit-world.js';

// The rules of rotation and revocation over an in-memory repository; the database's own part (the
// compare-and-set under concurrency) is proven against MariaDB and SQLite in test/integration.
const USER = '11111111-1111-4111-8111-111111111111';

describe('SessionsService', () => {
  let w: ReturnType<typeof unitWorld>;
  beforeEach(() => {
    w = unitWorld();
  });

  const refresh = async (token: string) => w.sessions.rotate(await w.sessions.findForRefresh(token), token);

  it('rotates: the new token works once, the old one is spent', async () => {
    const login = await w.sessions.create(USER, META);
    const first = await refresh(login.refreshToken);
    expect(first.refreshToken).not.toBe(login.refreshToken);
    expect(first.sessionId).toBe(login.sessionId);
    const second = await refresh(first.refreshToken);
    expect(await w.sessions.isLive(second.sessionId, USER)).toBe(true);
  });

  it('a spent token used again revokes the whole login, newest token included', async () => {
    const login = await w.sessions.create(USER, META);
    const next = await refresh(login.refreshToken);
    expect(await outcome(refresh(login.refreshToken))).toBe(ErrorCode.REFRESH_TOKEN_REUSED);
    expect(await outcome(refresh(next.refreshToken))).toBe(ErrorCode.REFRESH_TOKEN_INVALID);
    expect(await w.sessions.isLive(login.sessionId, USER)).toBe(false);
  });

  it('of 8 concurrent refreshes with one token exactly one wins, the others are reuse', async () => {
    const login = await w.sessions.create(USER, META);
    const results = await Promise.all(Array.from({ length: 8 }, () => outcome(refresh(login.refreshToken))));
    expect(results.filter((r) => r === 'ok')).toHaveLength(1);
    expect(results.filter((r) => r !== 'ok').every((r) => r === ErrorCode.REFRESH_TOKEN_REUSED)).toBe(true);
  });

  it('a refresh that loses to a logout is unknown (40102), not reuse', async () => {
    const login = await w.sessions.create(USER, META);
    const session = await w.sessions.findForRefresh(login.refreshToken);
    await w.sessions.revoke(login.sessionId, 'logout');
    expect(await outcome(w.sessions.rotate(session, login.refreshToken))).toBe(
      ErrorCode.REFRESH_TOKEN_INVALID,
    );
    expect(w.repos.sessions.rows.get(login.sessionId)?.revokeReason).toBe('logout');
  });

  it('refuses made-up and malformed tokens without touching the login', async () => {
    const login = await w.sessions.create(USER, META);
    for (const token of [
      `${login.sessionId}.5.${'A'.repeat(43)}`,
      'nonsense',
      `22222222-2222-4222-8222-222222222222.0.${'A'.repeat(43)}`,
    ]) {
      expect(await outcome(refresh(token))).toBe(ErrorCode.REFRESH_TOKEN_INVALID);
    }
    expect(await w.sessions.isLive(login.sessionId, USER)).toBe(true);
  });

  it('a made-up token of an older generation is unknown (40102), not reuse: the login lives on', async () => {
    const login = await w.sessions.create(USER, META);
    const next = await refresh(login.refreshToken);
    // What anyone who has seen one access token (its sid) could send, with or without a tag.
    for (const forged of [
      `${login.sessionId}.0.${'A'.repeat(43)}`,
      `${login.sessionId}.0.${'A'.repeat(43)}.${'A'.repeat(22)}`,
      // A real spent token's nonce and tag under another generation: the tag covers the generation.
      login.refreshToken.replace(`${login.sessionId}.0.`, `${login.sessionId}.1.`),
    ]) {
      expect(await outcome(refresh(forged))).toBe(ErrorCode.REFRESH_TOKEN_INVALID);
    }
    expect(await w.sessions.isLive(login.sessionId, USER)).toBe(true);
    expect(await outcome(refresh(next.refreshToken))).toBe('ok');
  });

  it('a token issued before tags existed can never declare reuse', async () => {
    const login = await w.sessions.create(USER, META);
    await refresh(login.refreshToken);
    expect(await outcome(refresh(`${login.sessionId}.0.${'B'.repeat(43)}`))).toBe(
      ErrorCode.REFRESH_TOKEN_INVALID,
    );
    expect(await w.sessions.isLive(login.sessionId, USER)).toBe(true);
  });

  it('an expired login refreshes no more', async () => {
    const login = await w.sessions.create(USER, META);
    w.repos.sessions.rows.get(login.sessionId)!.expiresAt = new Date(Date.now() - 1);
    expect(await outcome(refresh(login.refreshToken))).toBe(ErrorCode.REFRESH_TOKEN_INVALID);
    expect(await w.sessions.isLive(login.sessionId, USER)).toBe(false);
  });

  it('logout of all devices ends every login of the user at once, cached ones included', async () => {
    const other = '33333333-3333-4333-8333-333333333333';
    const a = await w.sessions.create(other, META);
    const b = await w.sessions.create(other, META);
    expect(await w.sessions.isLive(a.sessionId, other)).toBe(true); // now cached
    expect(await w.sessions.revokeAllForUser(other, 'logout_all')).toBe(2);
    expect(await w.sessions.isLive(a.sessionId, other)).toBe(false);
    expect(await w.sessions.isLive(b.sessionId, other)).toBe(false);
    expect(await outcome(refresh(b.refreshToken))).toBe(ErrorCode.REFRESH_TOKEN_INVALID);
  });

  it('inside a transaction, the cache is cleared only after the commit', async () => {
    const login = await w.sessions.create(USER, META);
    expect(await w.sessions.isLive(login.sessionId, USER)).toBe(true);
    await w.uow.run(async (tx) => {
      await w.sessions.revokeAllForUser(USER, 'disabled', tx);
      // Not committed yet: the cached answer stands, and nothing was re-read from uncommitted rows.
      expect(await w.sessions.isLive(login.sessionId, USER)).toBe(true);
    });
    expect(await w.sessions.isLive(login.sessionId, USER)).toBe(false);
  });

  it('a session is never live for another user id', async () => {
    const login = await w.sessions.create(USER, META);
    expect(await w.sessions.isLive(login.sessionId, '44444444-4444-4444-8444-444444444444')).toBe(false);
  });
});
