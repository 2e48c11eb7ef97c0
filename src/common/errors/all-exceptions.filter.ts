import { Catch, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { envelope } from '../envelope/envelope.js';
import { mapError } from './error-mapper.js';

/** Every failure leaves through here as an envelope; details of unexpected ones stay in the log. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    sendError(exception, http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>(), this.logger);
  }
}

export function sendError(
  exception: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
  logger: Logger,
): void {
  const answer = mapError(exception);
  const requestId = String(request.id);
  if (answer.unexpected) {
    logger.error({ err: exception, requestId }, 'unexpected error');
  } else if (answer.code === 50300) {
    logger.warn({ requestId, reason: (exception as Error)?.message }, 'dependency unavailable');
  }
  if (answer.retryAfter !== undefined)
    reply.header('Retry-After', String(Math.max(1, Math.ceil(answer.retryAfter))));
  reply.status(answer.status).send(envelope(answer.code, answer.message, answer.data, requestId));
}
