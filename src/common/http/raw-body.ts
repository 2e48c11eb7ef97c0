import type { Readable } from 'node:stream';
import { FASTIFY_ROUTE_CONFIG_METADATA } from '@nestjs/platform-fastify/constants.js';
import { errorCodes } from 'fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';

/** What a route marked @RawBody() accepts at most: a larger body is 413 before its handler runs. */
export const RAW_BODY_LIMIT = 1024 * 1024;

interface RawBodyConfig {
  rawBody?: boolean;
  /** The route's own limit, when smaller or larger than the app's (RAW_BODY_LIMIT by default). */
  rawBodyLimit?: number;
  /** Whose handler answers the route's refused bodies (handleRawBodyRefusals' `name`). */
  rawBodyRefusals?: string;
}

export interface RawBodyOptions {
  /** Bytes accepted at most on this route; larger is 413. Default: the app's limit. */
  limit?: number;
  /** The name of the refusal handler that answers this route (default: the app's). */
  refusals?: string;
}

const DEFAULT_REFUSALS = 'default';

/**
 * The route's handler gets the body as the Buffer that arrived, whatever its content type, never
 * parsed: a signature over the bytes (WeChat Pay's notifications) can only be checked on those
 * bytes, and any parse-then-serialise changes them. It adds to the route's config instead of
 * replacing it; @RawResponse() replaces, so write @RawBody() above it (decorators apply bottom-up).
 */
export const RawBody =
  (options: RawBodyOptions = {}): MethodDecorator =>
  (_target, _key, descriptor) => {
    const handler = descriptor.value as object;
    const config = (Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, handler) ?? {}) as Record<
      string,
      unknown
    >;
    const own: RawBodyConfig = { rawBody: true };
    if (options.limit !== undefined) own.rawBodyLimit = options.limit;
    if (options.refusals !== undefined) own.rawBodyRefusals = options.refusals;
    Reflect.defineMetadata(FASTIFY_ROUTE_CONFIG_METADATA, { ...config, ...own }, handler);
    return descriptor;
  };

/** A @RawBody() request refused before its handler ran (too large, a length that does not match). */
export interface RawBodyRefusal {
  status: 400 | 413;
  message: string;
}

/**
 * Answers a refused @RawBody() request (the route's owner decides the shape and records it). Without
 * one, the answer is `{"code":"FAIL","message"}`, the shape WeChat Pay, the caller of these routes,
 * reads.
 */
export type RawBodyRefusalHandler = (
  refusal: RawBodyRefusal,
  request: FastifyRequest,
  reply: FastifyReply,
) => Promise<void> | void;

const refusalHandlers = new WeakMap<FastifyInstance, Map<string, RawBodyRefusalHandler>>();

/**
 * Who answers the refusals of `fastify`'s @RawBody() routes: one per app, and one per `name` for
 * the routes that name it in @RawBody({ refusals }).
 */
export function handleRawBodyRefusals(
  fastify: FastifyInstance,
  handler: RawBodyRefusalHandler,
  name: string = DEFAULT_REFUSALS,
): void {
  const handlers = refusalHandlers.get(fastify) ?? new Map<string, RawBodyRefusalHandler>();
  handlers.set(name, handler);
  refusalHandlers.set(fastify, handlers);
}

const isRawBodyRoute = (request: FastifyRequest): boolean =>
  (request.routeOptions.config as RawBodyConfig | undefined)?.rawBody === true;

/**
 * Content-type parsers that hand @RawBody() routes their bytes, and every other route exactly what
 * Fastify's own parsers give it: JSON through Fastify's default JSON parser with the app's
 * prototype-poisoning actions, text/plain as a string, any other type refused (415) unread. To be
 * called before the routes are registered.
 */
export function rawBodyRoutes(fastify: FastifyInstance, limit = RAW_BODY_LIMIT): void {
  const { onProtoPoisoning, onConstructorPoisoning } = fastify.initialConfig;
  const json = fastify.getDefaultJsonParser(onProtoPoisoning ?? 'error', onConstructorPoisoning ?? 'error');
  // Fastify keeps its defaults for these two unless replaced; the replacements read the body as
  // bytes, with the same limits and checks, and decode it only where the default would.
  fastify.removeContentTypeParser(['application/json', 'text/plain']);
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    if (isRawBodyRoute(request)) return done(null, body);
    json(request, (body as Buffer).toString('utf8'), done);
  });
  fastify.addContentTypeParser('text/plain', { parseAs: 'buffer' }, (request, body, done) => {
    done(null, isRawBodyRoute(request) ? body : (body as Buffer).toString('utf8'));
  });
  // Every other type (and none): Fastify has no parser for them and refuses them with 415 without
  // reading; so does this one, except for a @RawBody() route, which reads them.
  fastify.addContentTypeParser('*', (request, payload, done) => {
    if (request.is404) return done(null, undefined);
    if (!isRawBodyRoute(request)) return done(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE(), undefined);
    readAll(payload, request.headers['content-length'], request.routeOptions.bodyLimit ?? limit, done);
  });

  fastify.addHook('onRoute', (route: RouteOptions) => {
    const config = route.config as RawBodyConfig | undefined;
    if (config?.rawBody !== true) return;
    const routeLimit = config.rawBodyLimit ?? limit;
    route.bodyLimit = routeLimit;
    // Parser failures of these routes (size, length) never reach the API's envelope: the route's
    // owner answers them in its own shape.
    route.errorHandler = (error, request, reply) => {
      const status = (error as { statusCode?: number }).statusCode === 413 ? 413 : 400;
      const refusal: RawBodyRefusal = {
        status,
        message: status === 413 ? `body over ${routeLimit} bytes` : 'body not received as announced',
      };
      const handler = refusalHandlers.get(fastify)?.get(config.rawBodyRefusals ?? DEFAULT_REFUSALS);
      if (handler) return handler(refusal, request, reply);
      void reply.status(status).send({ code: 'FAIL', message: refusal.message });
    };
  });
}

/** The whole stream as one Buffer, or Fastify's own errors past `limit` or short of Content-Length. */
function readAll(
  payload: Readable,
  contentLength: string | undefined,
  limit: number,
  done: (error: Error | null, body?: Buffer) => void,
): void {
  const announced = Number(contentLength);
  if (announced > limit) return done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
  const chunks: Buffer[] = [];
  let received = 0;
  const finish = (error: Error | null, body?: Buffer) => {
    payload.removeListener('data', onData);
    payload.removeListener('end', onEnd);
    payload.removeListener('error', finish);
    done(error, body);
  };
  const onData = (chunk: Buffer | string) => {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    received += bytes.length;
    if (received > limit) return finish(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
    chunks.push(bytes);
  };
  const onEnd = () => {
    if (!Number.isNaN(announced) && received !== announced) {
      return finish(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
    }
    finish(null, Buffer.concat(chunks, received));
  };
  payload.on('data', onData);
  payload.on('end', onEnd);
  payload.on('error', finish);
  payload.resume();
}
