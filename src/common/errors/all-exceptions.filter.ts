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
    logger.error({ err: loggable(exception), requestId }, 'unexpected error');
  } else if (answer.code === 50300) {
    logger.warn({ requestId, reason: (exception as Error)?.message }, 'dependency unavailable');
  }
  if (answer.retryAfter !== undefined)
    reply.header('Retry-After', String(Math.max(1, Math.ceil(answer.retryAfter))));
  reply.status(answer.status).send(envelope(answer.code, answer.message, answer.data, requestId));
}

/**
 * An unexpected error as the log may hold it. A database driver's error quotes the statement and
 * its values ("Duplicate entry 'o_…' for key", `parameters`, `sql`): openids, phones. Those keep
 * only their kind, code and stack frames; other errors keep their message.
 */
export function loggable(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { type: typeof error };
  const fields = error as Error & { code?: unknown; driverError?: { code?: unknown } };
  const fromDatabase = 'driverError' in fields || 'sql' in fields || 'parameters' in fields;
  return {
    type: error.name,
    code: fields.code ?? fields.driverError?.code,
    message: fromDatabase ? undefined : error.message,
    stack: error.stack?.split('\n').slice(1).join('\n'),
  };
}
