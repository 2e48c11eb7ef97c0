import { Logger as NestLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppModule } from './app.module.js';
import { warmUp, type Warming } from './app.warmup.js';
import { pathOf } from './common/http/path.js';
import { rawBodyRoutes } from './common/http/raw-body.js';
import { AccessLog } from './common/logging/access-log.js';
import { createPinoLogger, PinoNestLogger } from './common/logging/pino-logger.js';
import { requestIdFor } from './common/http/request-id.js';
import { securityHeaders } from './common/http/security-headers.js';
import { AppError } from './common/errors/app-error.js';
import { clientErrorHandler, sendError } from './common/errors/all-exceptions.filter.js';
import { ErrorCode } from './common/errors/error-code.js';
import { documentRouteErrors } from './common/envelope/route-errors.js';
import { envelopeRoutes } from './common/envelope/envelope.js';
import { RateLimitGuard } from './rate-limit/rate-limit.guard.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DestinationStream, Logger as PinoLogger } from 'pino';
import type { AppConfig } from './config/app-config.js';
import { ShutdownState } from './health/shutdown-state.js';
import { MetricsService } from './metrics/metrics.service.js';
import { loadConfig } from './config/load-config.js';

export interface CreateAppOptions {
  /** false silences request logs (tests). */
  logger?: boolean;
  /** Where log lines go instead of stdout (tests that read the log). */
  logDestination?: DestinationStream;
  /** Warm the request path up before returning (main.ts: before listening). */
  warmUp?: boolean;
}

export const API_PREFIX = 'api/v1';

/** Every method a route uses: a preflight for any other is refused by the browser. */
const CORS_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

const frameworkErrorLogger = new NestLogger('Errors');
const SECURITY_HEADERS = securityHeaders();

/**
 * The whole HTTP application, initialised but not listening: main.ts listens, tests use supertest.
 * Configuration comes only from `env` (validated here), never from process.env behind its back.
 */
export async function createApp(
  env: Record<string, string | undefined>,
  options: CreateAppOptions = {},
): Promise<NestFastifyApplication> {
  return createAppFromConfig(loadConfig(env), options);
}

/** As createApp, from a configuration already loaded (main.ts loads it first to fail fast). */
export async function createAppFromConfig(
  config: AppConfig,
  options: CreateAppOptions = {},
): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: config.http.bodyLimit,
    trustProxy: config.http.trustProxy,
    genReqId: requestIdFor,
    return503OnClosing: true,
    // No Nest middleware here (hooks and guards do that work): without middie, no empty middleware
    // chain runs on every request (2.5 % of GET /users/me's CPU).
    skipMiddie: true,
    // Longer path parameters reach the id pipe (404 in the envelope) instead of Fastify's bare 414.
    routerOptions: { maxParamLength: 2048 },
    // The router refuses a malformed URL (bad %-encoding) or a longer parameter before any hook runs:
    // answered like an unknown route, 404 / 40400 in the envelope with its X-Request-Id.
    frameworkErrors: (_error: Error, request: FastifyRequest, reply: FastifyReply) => {
      reply.headers(SECURITY_HEADERS.api).header('X-Request-Id', request.id);
      sendError(new AppError(ErrorCode.NOT_FOUND), request, reply, frameworkErrorLogger);
    },
    clientErrorHandler: clientErrorHandler(SECURITY_HEADERS.api, new NestLogger('HTTP')),
  });
  const logger = createPinoLogger(options.logger === false ? 'silent' : config.logLevel, {
    pretty: config.env === 'development' && process.stdout.isTTY === true,
    destination: options.logDestination,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.register(config), adapter, {
    logger: new PinoNestLogger(logger),
    abortOnError: false,
    // Bodies are JSON only (Fastify's own parser); Nest would also accept form-encoded bodies.
    bodyParser: false,
  });
  const warming: Warming = { now: false };
  configureHttp(app, config, logger, warming);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  if (options.warmUp) await warmUp(app, API_PREFIX, warming);
  if (options.logger !== false) {
    const log = new NestLogger('Bootstrap');
    for (const notice of config.notices) log.warn(notice);
  }
  return app;
}

function configureHttp(
  app: NestFastifyApplication,
  config: AppConfig,
  logger: PinoLogger,
  warming: Warming,
): void {
  const fastify = app.getHttpAdapter().getInstance();
  // Before app.init() registers the routes: each API route gets the envelope in its serialisation.
  envelopeRoutes(fastify, `/${API_PREFIX}/`);
  // Bodies stay JSON (Fastify's parser) everywhere but on @RawBody() routes, which get the bytes.
  rawBodyRoutes(fastify);

  const metrics = app.get(MetricsService);
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.headers(request.url.startsWith('/api/docs') ? SECURITY_HEADERS.docs : SECURITY_HEADERS.api);
    reply.header('X-Request-Id', request.id);
    done();
  });
  const shutdown = app.get(ShutdownState);
  fastify.addHook('onSend', (_request, reply, _payload, done) => {
    // While draining, every answer tells keep-alive clients to go elsewhere.
    if (shutdown.stopping) reply.header('Connection', 'close');
    done();
  });
  // Access lines hold only the fields below, none sensitive: no redaction, one template.
  const accessLog = new AccessLog(logger);
  fastify.addHook('onResponse', (request, reply, done) => {
    if (warming.now) return done();
    // The route template, never the raw URL: ids in paths would explode the label set.
    const route = request.routeOptions.url ?? 'unmatched';
    const status = reply.statusCode;
    metrics.observeHttp(request.method, route, status, reply.elapsedTime / 1000);
    // One access line per request; the path only (query strings are not logged), no probes.
    if (accessLog.enabled && !route.startsWith('/api/v1/health')) {
      accessLog.request(
        String(request.id),
        request.method,
        pathOf(request.url),
        status,
        Math.round(reply.elapsedTime * 10) / 10,
      );
    }
    done();
  });

  if (config.http.corsOrigins !== false) {
    app.enableCors({
      origin: config.http.corsOrigins,
      methods: CORS_METHODS,
      exposedHeaders: ['X-Request-Id', 'Retry-After'],
    });
  }
  app.setGlobalPrefix(API_PREFIX, { exclude: ['metrics'] });

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('WeChat mini-program backend')
      .setDescription(
        'Every JSON answer is an envelope `{ code, message, data, requestId }`; `code` is 0 on success, ' +
          'otherwise the exact cause (see docs/api.md in the repository), with the HTTP status giving its class.',
      )
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
      .build(),
  );
  // Error responses each route can give, from what its guards, limits and DTOs add (route-errors.ts).
  documentRouteErrors(app, document, new Map([[RateLimitGuard, [ErrorCode.RATE_LIMITED]]]));
  SwaggerModule.setup('api/docs', app, document, {
    jsonDocumentUrl: 'api/docs-json',
    useGlobalPrefix: false,
  });
}
