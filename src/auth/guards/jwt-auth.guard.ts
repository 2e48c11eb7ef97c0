import { Injectable, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { IS_PUBLIC_KEY } from '../../common/auth/decorators.js';
import { AppError } from '../../common/errors/app-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';

/** Global and deny-by-default: only handlers marked @Public() skip it. */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(context: ExecutionContext) {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    return isPublic ? true : super.canActivate(context);
  }

  override handleRequest<TUser>(error: unknown, user: TUser | false, info: unknown): TUser {
    if (error) throw error;
    if (!user) {
      throw new AppError(isExpiry(info) ? ErrorCode.ACCESS_TOKEN_EXPIRED : ErrorCode.UNAUTHENTICATED);
    }
    return user;
  }
}

/** passport-jwt hands jsonwebtoken's TokenExpiredError as `info` (a CommonJS class: matched by name). */
function isExpiry(info: unknown): boolean {
  return info instanceof Error && info.name === 'TokenExpiredError';
}
