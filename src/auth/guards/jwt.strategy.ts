import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import type { AuthUser } from '../../common/auth/decorators.js';
import { BoundedMap } from '../../common/cache/bounded-map.js';
import { AppError } from '../../common/errors/app-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import { jwtConfig } from '../../config/config.slices.js';
import { UsersService } from '../../users/users.service.js';
import { SessionsService } from '../../sessions/sessions.service.js';
import { accessTokenKeys } from '../tokens/jwt-options.js';

interface AccessTokenPayload {
  sub?: unknown;
  sid?: unknown;
  exp?: unknown;
}

const bearerOf = ExtractJwt.fromAuthHeaderAsBearerToken();
/** passport's typings say Express; on Fastify the request is Fastify's, with the same headers. */
type PassportRequest = Parameters<Strategy['authenticate']>[0];

/**
 * Verifies the access token (HS256 only: passport-jwt once accepted `none`; iss and aud checked),
 * then confirms on every request that the user is active and the login still on. Both checks are
 * answered from caches that every change clears, so the hot path does no I/O in the common case.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  /**
   * Tokens that passed verification, with their claims. A token's signature, issuer and audience
   * never change, so verifying the same string again (jsonwebtoken: ~6 µs, 17 % of GET /users/me's
   * CPU) proves nothing new; only its expiry is checked again on every use. Revocation is not
   * decided here: validate() still asks about the session and the user on every request.
   */
  private readonly verified = new BoundedMap<string, AccessTokenPayload & { exp: number }>(20_000);

  constructor(
    @Inject(jwtConfig.KEY) jwt: ConfigType<typeof jwtConfig>,
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
  ) {
    const { key, verify } = accessTokenKeys(jwt);
    super({
      jwtFromRequest: bearerOf,
      // jsonwebtoken accepts a KeyObject; passport-jwt's typings only list string | Buffer.
      secretOrKey: key as unknown as Buffer,
      ...verify,
      passReqToCallback: true,
    });
  }

  override authenticate(request: PassportRequest, options?: unknown): void {
    const token = bearerOf(request);
    const claims = token ? this.verified.get(token) : undefined;
    if (!claims || claims.exp * 1000 <= Date.now()) {
      super.authenticate(request, options);
      return;
    }
    this.check(claims).then(
      (user) => this.success(user),
      (error: unknown) => this.error(error as Error),
    );
  }

  /** Called by passport-jwt once a token has been verified. */
  async validate(request: PassportRequest, payload: AccessTokenPayload): Promise<AuthUser> {
    const token = bearerOf(request);
    if (token && typeof payload.exp === 'number') this.verified.set(token, { ...payload, exp: payload.exp });
    return this.check(payload);
  }

  private async check(payload: AccessTokenPayload): Promise<AuthUser> {
    if (typeof payload.sub !== 'string' || typeof payload.sid !== 'string') {
      throw new AppError(ErrorCode.UNAUTHENTICATED);
    }
    const state = await this.users.getAuthState(payload.sub);
    if (!state || state.status === 'erased') throw new AppError(ErrorCode.UNAUTHENTICATED);
    if (state.status === 'disabled') throw new AppError(ErrorCode.USER_DISABLED);
    if (!(await this.sessions.isLive(payload.sid, payload.sub)))
      throw new AppError(ErrorCode.UNAUTHENTICATED);
    return { userId: payload.sub, sessionId: payload.sid, role: state.role };
  }
}
