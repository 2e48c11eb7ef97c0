/**
 * The services of the core wired by hand over in-memory repositories, a local invalidation bus and
 * a scripted WeChat client: what a unit test of the rules needs, with nothing to start and nothing
 * to wait for. Built fresh per test (`const w = unitWorld()`).
 */
import { randomBytes } from 'node:crypto';
import { JwtService } from '@nestjs/jwt';
import { AuditService } from '../../src/audit/audit.service.js';
import { AuthService } from '../../src/auth/auth.service.js';
import { AccessTokenService } from '../../src/auth/tokens/access-token.service.js';
import { jwtModuleOptions } from '../../src/auth/tokens/jwt-options.js';
import type { RequestMeta } from '../../src/common/http/request-meta.js';
import { LocalInvalidationBus } from '../../src/common/invalidation/local-invalidation-bus.js';
import type { JwtSlice } from '../../src/config/config.slices.js';
import { MetricsService } from '../../src/metrics/metrics.service.js';
import { DataCipher } from '../../src/security/data-cipher.js';
import { SessionsService } from '../../src/sessions/sessions.service.js';
import { AdminUsersService } from '../../src/users/admin-users.service.js';
import { SessionKeysService } from '../../src/session-keys/session-keys.service.js';
import { OaUnionidLookup } from '../../src/users/oa-unionid-lookup.js';
import { UserErasureParticipants } from '../../src/users/user-erasure.js';
import { UsersService } from '../../src/users/users.service.js';
import type { WechatClient, WechatPhoneInfo, WechatSession } from '../../src/wechat/wechat-client.port.js';
import {
  InMemoryAuditRepository,
  InMemorySessionKeyRepository,
  InMemorySessionRepository,
  InMemoryUnitOfWork,
  InMemoryUserRepository,
} from './in-memory-repositories.js';

export const META: RequestMeta = { ip: '203.0.113.7', requestId: 'req-unit', userAgent: 'unit-test' };

export const JWT: JwtSlice = {
  secret: 'unit-test-jwt-secret-0123456789abcdef-xyz',
  accessTtl: 900,
  refreshTtl: 2_592_000,
  issuer: 'unit-issuer',
  audience: 'unit-audience',
};

/** A WeChat that answers from what the test set up; `hold` keeps the next call waiting. */
export class ScriptedWechat implements WechatClient {
  private gate: Promise<void> | null = null;
  private entered: (() => void) | null = null;

  sessionFor(code: string): WechatSession {
    return {
      openid: `o_${code}`,
      sessionKey: Buffer.from(code.padEnd(16, '.').slice(0, 16)).toString('base64'),
    };
  }

  /** The next call waits for `release()`; `entered` resolves once it has started. */
  hold(): { entered: Promise<void>; release: () => void } {
    let release!: () => void;
    this.gate = new Promise<void>((resolve) => (release = resolve));
    const entered = new Promise<void>((resolve) => (this.entered = resolve));
    return { entered, release };
  }

  private async pass(): Promise<void> {
    const gate = this.gate;
    this.gate = null;
    this.entered?.();
    this.entered = null;
    if (gate) await gate;
  }

  async code2Session(code: string): Promise<WechatSession> {
    await this.pass();
    return this.sessionFor(code);
  }

  async getPhoneNumber(code: string): Promise<WechatPhoneInfo> {
    await this.pass();
    const digits = `138${code.replace(/\D/g, '').padStart(8, '0').slice(-8)}`;
    return {
      phoneNumber: digits,
      purePhoneNumber: digits,
      countryCode: '86',
      watermark: { appid: 'wxunit', timestamp: 0 },
    };
  }

  async sendSubscribeMessage(): Promise<void> {}

  async checkSessionKey(): Promise<boolean> {
    return true;
  }
}

export function unitWorld(options: { adminOpenids?: string[]; sandbox?: boolean } = {}) {
  const repos = {
    users: new InMemoryUserRepository(),
    sessions: new InMemorySessionRepository(),
    keys: new InMemorySessionKeyRepository(),
    audit: new InMemoryAuditRepository(),
  };
  const uow = new InMemoryUnitOfWork();
  const bus = new LocalInvalidationBus();
  const wechat = new ScriptedWechat();
  const cipher = new DataCipher(randomBytes(32));
  const audit = new AuditService(repos.audit);
  const sessions = new SessionsService(repos.sessions, bus, JWT);
  const oaUnionids = new OaUnionidLookup();
  const users = new UsersService(repos.users, wechat, cipher, audit, bus, oaUnionids);
  const sessionKeys = new SessionKeysService(repos.keys, cipher);
  const erasureParticipants = new UserErasureParticipants();
  const admin = new AdminUsersService(
    repos.users,
    users,
    sessions,
    sessionKeys,
    audit,
    uow,
    erasureParticipants,
  );
  const accessTokens = new AccessTokenService(new JwtService(jwtModuleOptions(JWT)), JWT);
  const auth = new AuthService(
    wechat,
    users,
    sessionKeys,
    sessions,
    accessTokens,
    audit,
    new MetricsService(),
    { adminOpenids: new Set(options.adminOpenids ?? []) },
    { mode: options.sandbox ? 'sandbox' : 'live' },
  );
  return {
    repos,
    uow,
    bus,
    wechat,
    cipher,
    audit,
    sessions,
    users,
    oaUnionids,
    sessionKeys,
    erasureParticipants,
    admin,
    accessTokens,
    auth,
  };
}

export { outcome } from './app-errors.js';
