import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { Catch, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { envelope } from '../envelope/envelope.js';
import { pathOf } from '../http/path.js';
import { DEFAULT_MESSAGES, ErrorCode, httpStatusOf } from './error-code.js';
import { fieldError, mapError } from './error-mapper.js';

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
  const requestId = String(request.id);
  if (isClientAbort(exception, request)) {
    // The client hung up before its request was complete: nobody is left to answer, and nothing on
    // this side failed (the socket's ECONNRESET would otherwise read as a dependency's).
    logger.debug(
      { requestId, method: request.method, path: pathOf(request.url) },
      'client aborted the request before it was complete',
    );
    return;
  }
  const answer = mapError(exception);
  if (answer.unexpected) {
    logger.error({ err: loggable(exception), requestId }, 'unexpected error');
  } else if (answer.code === ErrorCode.DEPENDENCY_UNAVAILABLE) {
    logger.warn({ requestId, reason: (exception as Error)?.message }, 'dependency unavailable');
  }
  if (answer.retryAfter !== undefined)
    reply.header('Retry-After', String(Math.max(1, Math.ceil(answer.retryAfter))));
  reply.status(answer.status).send(envelope(answer.code, answer.message, answer.data, requestId));
}

/** The very error the request stream was destroyed with when the client's socket closed early. */
function isClientAbort(exception: unknown, request: FastifyRequest): boolean {
  if (exception === null || typeof exception !== 'object') return false;
  const raw = request.raw;
  if (raw.errored === exception) return true;
  return raw.readableAborted && (exception as { code?: unknown }).code === 'ECONNRESET';
}

/**
 * Node's HTTP parser refuses some requests before any request object exists (bad chunked framing,
 * Content-Length with Transfer-Encoding, bare CR or LF, NUL or non-ASCII bytes, headers over the
 * limit): Fastify's clientErrorHandler. They get the envelope, a request id and the API's security
 * headers like any answer, then the connection closes (the byte stream can no longer be trusted).
 * It runs for hostile traffic, so it does fixed work and never throws: the socket may already be
 * gone.
 */
export function clientErrorHandler(
  securityHeaders: Readonly<Record<string, string>>,
  logger: Logger,
): (error: Error & { code?: string; reason?: unknown }, socket: Duplex) => void {
  const fixedHeaders = Object.entries(securityHeaders)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return (error, socket) => {
    try {
      // The client went away (a reset, or its end of the stream mid-request): nobody to answer.
      if (error.code === 'ECONNRESET' || error.code === 'HPE_INVALID_EOF_STATE' || socket.destroyed) {
        return;
      }
      // A response already under way on this connection (pipelining) would be corrupted.
      const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
      if (!socket.writable || inFlight?.headersSent) return;
      const requestId = randomUUID();
      const code =
        error.code === 'HPE_HEADER_OVERFLOW' ? ErrorCode.HEADERS_TOO_LARGE : ErrorCode.VALIDATION_FAILED;
      // llhttp's reason is a fixed text ("Invalid character in chunk size"), never request bytes.
      const reason = typeof error.reason === 'string' ? error.reason.slice(0, 100) : 'malformed request';
      const message = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'request not received in time' : reason;
      const data = code === ErrorCode.VALIDATION_FAILED ? fieldError('request', message) : null;
      const body = JSON.stringify(envelope(code, DEFAULT_MESSAGES[code], data, requestId));
      const status = httpStatusOf(code);
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
          'Content-Type: application/json; charset=utf-8\r\n' +
          `Content-Length: ${Buffer.byteLength(body)}\r\n` +
          `X-Request-Id: ${requestId}\r\n` +
          fixedHeaders +
          'Connection: close\r\n\r\n' +
          body,
      );
      logger.debug({ requestId, reason: error.code }, 'HTTP parser refused the request');
    } catch {
      // Nothing left to do for this connection; it is destroyed below.
    } finally {
      socket.destroy();
    }
  };
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
