import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { map, type Observable } from 'rxjs';
import { envelope, RAW_RESPONSE_KEY } from './envelope.js';

@Injectable()
export class EnvelopeInterceptor implements NestInterceptor {
  constructor(private readonly reflector: Reflector) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (this.reflector.get<boolean>(RAW_RESPONSE_KEY, context.getHandler())) return next.handle();
    const requestId = String(context.switchToHttp().getRequest<FastifyRequest>().id);
    return next.handle().pipe(map((data: unknown) => envelope(0, 'ok', data ?? null, requestId)));
  }
}
