/**
 * The service's auth as the SDK sees it, in memory: logins, one-use refresh tokens (a spent one is
 * 40103, an unknown one 40102), access tokens that a test can expire, and routes a test adds.
 * Every answer waits one macrotask, so concurrent callers really overlap.
 */
import { envelope, type ShimRequest, type ShimResponse } from './wx-shim.js';

type Route = (request: ShimRequest, userId: string) => ShimResponse | Promise<ShimResponse>;

export class FakeService {
  readonly base = 'https://api.test/api/v1';
  private seq = 0;
  private readonly access = new Map<string, { userId: string; expired: boolean }>();
  private readonly refresh = new Map<string, { userId: string; spent: boolean }>();
  readonly routes = new Map<string, Route>();
  /** Replaces the refresh route's answer when set. */
  refreshAnswer: (() => ShimResponse) | null = null;
  /** Replaces the login route's answer when set. */
  loginAnswer: (() => ShimResponse) | null = null;

  constructor() {
    this.routes.set('GET /users/me', (_request, userId) => envelope({ id: userId, nickname: null }));
  }

  issue(userId: string): { accessToken: string; refreshToken: string } {
    this.seq++;
    const tokens = { accessToken: `at-${this.seq}`, refreshToken: `rt-${this.seq}` };
    this.access.set(tokens.accessToken, { userId, expired: false });
    this.refresh.set(tokens.refreshToken, { userId, spent: false });
    return tokens;
  }

  expireAll(): void {
    for (const token of this.access.values()) token.expired = true;
  }

  handle = async (request: ShimRequest): Promise<ShimResponse> => {
    await new Promise((done) => setImmediate(done));
    const path = new URL(request.url).pathname.replace(/^\/api\/v1/, '');
    const body = (request.data ?? {}) as Record<string, string>;
    if (request.method === 'POST' && path === '/auth/wechat/login') {
      if (this.loginAnswer) return this.loginAnswer();
      return envelope({
        ...this.tokens(`user-of-${body.code}`),
        user: { id: `user-of-${body.code}` },
        isNewUser: false,
      });
    }
    if (request.method === 'POST' && path === '/auth/refresh') {
      if (this.refreshAnswer) return this.refreshAnswer();
      const known = this.refresh.get(body.refreshToken);
      if (!known) return envelope(null, 40102, 'refresh token invalid');
      if (known.spent) return envelope(null, 40103, 'refresh token reused');
      known.spent = true;
      return envelope(this.tokens(known.userId));
    }
    const auth = request.header.Authorization?.replace(/^Bearer /, '') ?? '';
    const token = this.access.get(auth);
    if (!token) return envelope(null, 40100, 'authentication required');
    if (token.expired) return envelope(null, 40101, 'access token expired');
    if (request.method === 'POST' && path === '/auth/logout') {
      this.access.delete(auth);
      return envelope(null);
    }
    const route = [...this.routes.entries()].find(([key]) => {
      const [method, pattern] = key.split(' ');
      return method === request.method && new RegExp(`^${pattern.replace(/:\w+/g, '[^/]+')}$`).test(path);
    });
    if (!route) return envelope(null, 40400, 'not found');
    return route[1](request, token.userId);
  };

  private tokens(userId: string) {
    return { ...this.issue(userId), tokenType: 'Bearer', expiresIn: 900, refreshExpiresIn: 2592000 };
  }
}
