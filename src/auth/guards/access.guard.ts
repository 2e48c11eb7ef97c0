import { Injectable, type CanActivate, type ExecutionContext, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { accessPolicyOf, type AccessPolicy, type AuthUser } from '../../common/auth/decorators.js';
import { AppError } from '../../common/errors/app-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import { JwtStrategy } from './jwt.strategy.js';

/**
 * The one global guard: deny by default, `@Public()` routes open, `@Roles(...)` routes for those
 * roles only. Each route's policy is read from its metadata once, at start-up, not per request;
 * the token itself is checked by JwtStrategy (passport-jwt), the one place that verifies tokens.
 */
@Injectable()
export class AccessGuard implements CanActivate, OnModuleInit {
  private readonly policies = new Map<unknown, AccessPolicy>();

  constructor(
    private readonly reflector: Reflector,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly strategy: JwtStrategy,
  ) {}

  onModuleInit(): void {
    for (const controller of this.discovery.getControllers()) {
      const type = controller.metatype as (new (...args: never[]) => unknown) | undefined;
      if (!type) continue;
      for (const name of this.scanner.getAllMethodNames(type.prototype)) {
        const handler = (type.prototype as Record<string, unknown>)[name];
        this.policies.set(handler, this.policyOf(handler as () => unknown, type));
      }
    }
  }

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const handler = context.getHandler();
    let policy = this.policies.get(handler);
    if (!policy) {
      // A route registered after start-up (none today): read once, then kept like the others.
      policy = this.policyOf(
        handler as () => unknown,
        context.getClass() as new (...args: never[]) => unknown,
      );
      this.policies.set(handler, policy);
    }
    if (policy.public) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest & { user?: AuthUser }>();
    const roles = policy.roles;
    return this.strategy.authenticateRequest(request).then((user) => {
      request.user = user;
      if (roles && !roles.includes(user.role)) throw new AppError(ErrorCode.ROLE_FORBIDDEN);
      return true;
    });
  }

  private policyOf(handler: () => unknown, type: new (...args: never[]) => unknown): AccessPolicy {
    return accessPolicyOf(this.reflector, handler, type);
  }
}
