import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { ExtractJwt, Strategy } from 'passport-jwt';
import type { AuthUser } from '../../common/auth/decorators.js';
import { BoundedMap } from '../../common/cache/bounded-map.js';
import { AppError } from '../../common/errors/app-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import { jwtConfig } from '../../config/config.slices.js';
import { SessionsService } from '../../sessions/sessions.service.js';
import { UsersService } from '../../users/users.service.js';
import { accessTokenKeys } from '../tokens/jwt-options.js';

interface AccessTokenPayload {
  sub?: unknown;
  sid?: unknown;
  exp?: unknown;
}

const passportBearerOf = ExtractJwt.fromAuthHeaderAsBearerToken();
/**
 * passport-jwt splits the header with `/(\S+)\s+(\S+)/`, which backtracks quadratically on a long
 * value without whitespace (a 5,000-byte header cost 40 ms of the event loop): only a header that
 * starts with the Bearer scheme reaches it, and that shape it matches in one pass.
 */
const BEARER_SCHEME = /^bearer\s/i;
const bearerOf = (request: PassportRequest): string | null => {
  const header = (request as unknown as { headers: Record<string, unknown> }).headers.authorization;
  return typeof header === 'string' && BEARER_SCHEME.test(header) ? passportBearerOf(request) : null;
};
/** passport's typings say Express; on Fastify the request is Fastify's, with the same headers. */
type PassportRequest = Parameters<Strategy['authenticate']>[0];
type VerifyOptions = { issuer: string; audience: string; algorithms: ['HS256'] };
/** passport-jwt's own verifier (jsonwebtoken.verify); its typings do not declare it. */
const jwtVerifier = (
  Strategy as unknown as {
    JwtVerifier: (
      token: string,
      key: Buffer,
      options: VerifyOptions,
      callback: (error: Error | null, payload?: unknown) => void,
    ) => void;
  }
).JwtVerifier;

/**
 * The one place an access token is verified (HS256 only: passport-jwt once accepted `none`; iss
 * and aud checked), then the user must be active and the login still on. Both checks are answered
 * from caches that every change clears, so the hot path does no I/O in the common case.
 *
 * Registered with Passport as the `jwt` strategy, and called by the global AccessGuard through
 * authenticateRequest(): with passport-jwt's own verifier and options, but without Passport's
 * per-request machinery (a strategy object created per request, callbacks, the promise wrapper of
 * @nestjs/passport), which the GET /users/me profile showed as a tenth of the request.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  /**
   * Tokens that passed verification, with their claims. A token's signature, issuer and audience
   * never change, so verifying the same string again (jsonwebtoken: ~6 µs, 17 % of GET /users/me's
   * CPU) proves nothing new; only its expiry is checked again on every use. Revocation is not
   * decided here: check() still asks about the session and the user on every request.
   */
  private readonly verified = new BoundedMap<string, AccessTokenPayload & { exp: number }>(20_000);
  private readonly key: Buffer;
  private readonly verifyOptions: VerifyOptions;

  constructor(
    @Inject(jwtConfig.KEY) jwt: ConfigType<typeof jwtConfig>,
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
  ) {
    const { key, verify } = accessTokenKeys(jwt);
    const options = {
      jwtFromRequest: bearerOf,
      // jsonwebtoken accepts a KeyObject; passport-jwt's typings only list string | Buffer.
      secretOrKey: key as unknown as Buffer,
      ...verify,
      passReqToCallback: true as const,
    };
    super(options);
    this.key = options.secretOrKey;
    this.verifyOptions = verify;
  }

  /** The signed-in user of `request`, or the AppError that refuses it (40100, 40101, 40301). */
  async authenticateRequest(request: FastifyRequest): Promise<AuthUser> {
    const token = bearerOf(request as unknown as PassportRequest);
    if (!token) throw new AppError(ErrorCode.UNAUTHENTICATED);
    let claims = this.verified.get(token);
    if (!claims || claims.exp * 1000 <= Date.now()) {
      const payload = await this.verify(token);
      if (typeof payload.exp !== 'number') throw new AppError(ErrorCode.UNAUTHENTICATED);
      claims = { ...payload, exp: payload.exp };
      this.verified.set(token, claims);
    }
    return this.check(claims);
  }

  /** passport-jwt's verifier (jsonwebtoken) with the options Passport's strategy uses. */
  private verify(token: string): Promise<AccessTokenPayload> {
    const { issuer, audience, algorithms } = this.verifyOptions;
    return new Promise((resolve, reject) => {
      jwtVerifier(token, this.key, { issuer, audience, algorithms }, (error, payload) => {
        if (error) {
          // jsonwebtoken's TokenExpiredError is a CommonJS class: matched by name.
          reject(
            new AppError(
              error.name === 'TokenExpiredError' ? ErrorCode.ACCESS_TOKEN_EXPIRED : ErrorCode.UNAUTHENTICATED,
            ),
          );
        } else resolve((payload ?? {}) as AccessTokenPayload);
      });
    });
  }

  /** Called by passport-jwt when the strategy runs through Passport itself. */
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
