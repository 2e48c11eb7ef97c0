import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/** Who asked, for audit entries and sessions. Never holds secrets. */
export interface RequestMeta {
  ip: string;
  requestId: string;
  userAgent: string | null;
}

export function requestMetaOf(request: FastifyRequest): RequestMeta {
  const ua = request.headers['user-agent'];
  return {
    ip: request.ip,
    requestId: String(request.id),
    userAgent: typeof ua === 'string' ? ua.slice(0, 256) : null,
  };
}

export const ReqMeta = createParamDecorator((_: unknown, ctx: ExecutionContext): RequestMeta =>
  requestMetaOf(ctx.switchToHttp().getRequest<FastifyRequest>()),
);
