import { createParamDecorator, SetMetadata, type ExecutionContext, type Type } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';

export const IS_PUBLIC_KEY = 'auth:public';
export const ROLES_KEY = 'auth:roles';

export type Role = 'user' | 'admin';

/** What the JWT guard puts on the request once the token, its session and its user check out. */
export interface AuthUser {
  userId: string;
  sessionId: string;
  role: Role;
}

/** The route needs no access token (the guard denies by default). */
export const Public = () => SetMetadata(IS_PUBLIC_KEY, true);

export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);

/** What a route asks of its caller, from its decorators (handler first, then controller). */
export interface AccessPolicy {
  public: boolean;
  roles: readonly Role[] | null;
}

/** The one reading of @Public() and @Roles(): the global guard enforces it, the OpenAPI document shows it. */
export function accessPolicyOf(
  reflector: Reflector,
  handler: () => unknown,
  controller: Type<unknown>,
): AccessPolicy {
  const targets = [handler, controller];
  const roles = reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets);
  return {
    public: reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC_KEY, targets) === true,
    roles: roles && roles.length > 0 ? roles : null,
  };
}

export const CurrentUser = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): AuthUser =>
    ctx.switchToHttp().getRequest<FastifyRequest & { user: AuthUser }>().user,
);
