import {
  bindingCookie,
  isBinding,
  newBinding,
  OAuthStateSigner,
  readCookie,
  type StateRecord,
} from './oauth-state.js';

const SECRET = 'unit-test-jwt-secret-0123456789abcdef-xyz';
const RECORD: StateRecord = { scope: 'snsapi_base', redirect: 'https://h5.example.com/after?x=1' };

describe('OAuth state', () => {
  it('is 1-128 characters of A-Za-z0-9, fresh each time, and checks out for what it was made for', () => {
    const signer = new OAuthStateSigner(SECRET);
    const binding = newBinding();
    const a = signer.issue(RECORD, binding);
    const b = signer.issue(RECORD, binding);
    expect(a.state).toMatch(/^[A-Za-z0-9]{1,128}$/);
    expect(a.state).not.toBe(b.state);
    expect(signer.idOf(a.state)).toBe(a.id);
    expect(signer.verify(a.state, RECORD, binding)).toBe(true);
  });

  it('is bound to the redirect, the scope and the browser cookie', () => {
    const signer = new OAuthStateSigner(SECRET);
    const binding = newBinding();
    const { state } = signer.issue(RECORD, binding);
    expect(signer.verify(state, { ...RECORD, redirect: 'https://h5.example.com/after?x=2' }, binding)).toBe(
      false,
    );
    expect(signer.verify(state, { ...RECORD, scope: 'snsapi_userinfo' }, binding)).toBe(false);
    expect(signer.verify(state, RECORD, newBinding())).toBe(false);
    expect(signer.verify(state, RECORD, null)).toBe(false);
    expect(signer.verify(state, RECORD, 'short')).toBe(false);
  });

  it('refuses any altered character, and states signed with another secret', () => {
    const signer = new OAuthStateSigner(SECRET);
    const binding = newBinding();
    const { state } = signer.issue(RECORD, binding);
    for (let i = 0; i < state.length; i++) {
      const altered = state.slice(0, i) + (state[i] === '0' ? '1' : '0') + state.slice(i + 1);
      expect(signer.verify(altered, RECORD, binding)).toBe(false);
    }
    const other = new OAuthStateSigner(`${SECRET}-other`).issue(RECORD, binding);
    expect(signer.verify(other.state, RECORD, binding)).toBe(false);
  });

  it('expires after 10 minutes', () => {
    let now = Date.UTC(2026, 0, 1);
    const signer = new OAuthStateSigner(SECRET, () => now);
    const { state, id } = signer.issue(RECORD, newBinding());
    now += 599_000;
    expect(signer.idOf(state)).toBe(id);
    now += 1_000;
    expect(signer.idOf(state)).toBeNull();
  });

  it('refuses what is not a state', () => {
    const signer = new OAuthStateSigner(SECRET);
    for (const value of [
      undefined,
      null,
      42,
      ['a'],
      '',
      'abc',
      'A'.repeat(74),
      `${'a'.repeat(32)}99999999999${'b'.repeat(32)}`,
    ]) {
      expect(signer.idOf(value)).toBeNull();
    }
  });
});

describe('OAuth binding cookie', () => {
  it('is 32 random bytes, base64url', () => {
    const value = newBinding();
    expect(isBinding(value)).toBe(true);
    expect(Buffer.from(value, 'base64url')).toHaveLength(32);
    expect(isBinding('x'.repeat(42))).toBe(false);
    expect(isBinding(`${'x'.repeat(42)}=`)).toBe(false);
  });

  it('is HttpOnly, SameSite=Lax, 600 s, on the OAuth path, Secure over https', () => {
    expect(bindingCookie('v', { path: '/api/v1/auth/wechat/oauth', secure: false })).toBe(
      'wxb_oauth=v; Max-Age=600; Path=/api/v1/auth/wechat/oauth; HttpOnly; SameSite=Lax',
    );
    expect(bindingCookie('v', { path: '/p/api/v1/auth/wechat/oauth', secure: true })).toBe(
      'wxb_oauth=v; Max-Age=600; Path=/p/api/v1/auth/wechat/oauth; HttpOnly; SameSite=Lax; Secure',
    );
  });

  it('is read from a Cookie header among others', () => {
    expect(readCookie('a=1; wxb_oauth=abc; b=2', 'wxb_oauth')).toBe('abc');
    expect(readCookie('xwxb_oauth=abc', 'wxb_oauth')).toBeNull();
    expect(readCookie(undefined, 'wxb_oauth')).toBeNull();
    expect(readCookie(['a=1', 'wxb_oauth=z'], 'wxb_oauth')).toBe('z');
  });
});
