import type { CanActivate, INestApplicationContext, Type } from '@nestjs/common';
import { GUARDS_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { DiscoveryService, MetadataScanner, ModulesContainer, Reflector } from '@nestjs/core';
import type {
  OpenAPIObject,
  OperationObject,
  ResponseObject,
  ResponsesObject,
  SchemaObject,
} from '@nestjs/swagger';
import { accessPolicyOf } from '../auth/decorators.js';
import { DEFAULT_MESSAGES, ErrorCode, httpStatusOf } from '../errors/error-code.js';
import { INPUT_LIMITS } from '../http/validation.pipe.js';
import { envelopeOf, HANDLER_ERRORS_KEY, REQUEST_ID_EXAMPLE } from './api-envelope.decorator.js';
import { isRawResponse } from './envelope.js';

/** What the route's metadata says about the answers it can give before or around its handler. */
export interface RouteFacts {
  /** `@Public()`: the global JWT guard lets it through without a token. */
  isPublic: boolean;
  /** `@Roles(...)` on the handler or its controller. */
  hasRoles: boolean;
  /** What the route's own guards (`@UseGuards`, e.g. through `@RateLimit(...)`) answer. */
  guardCodes: readonly ErrorCode[];
  /** Takes a JSON body (validated by the global validation pipe). */
  hasBody: boolean;
  /** Takes query parameters (validated by the global validation pipe). */
  hasQuery: boolean;
}

/**
 * Every code an enveloped route can answer: the handler's own, plus those its guards, input and
 * dependencies add. The rules, in order:
 *
 * - 50000 on every route. OpenAPI has no document-wide responses, so a code generator or a reader of
 *   one operation would never see a 500 listed only once; one small entry per route is cheaper than
 *   that surprise.
 * - 50300 on every route. Each one reaches the database or Redis before or inside its handler: a
 *   route behind the JWT guard checks the session and the user (from the database on a cache miss,
 *   and on every request while invalidations from Redis cannot be trusted), a rate-limited one counts
 *   in Redis, and the public ones left (login, refresh) write sessions. Deciding per route would mean
 *   tracing every service call, and a missed one would hide a real 503; the probes and docs, outside
 *   the envelope, never get here.
 * - Not public: 40100 and 40101 (token missing, bad or expired) and 40301 (the user was disabled).
 * - Roles: 40300.
 * - Its own guards: what the caller of documentRouteErrors says each answers (42900 for the rate
 *   limit, whose store being down is the 50300 above).
 * - A JSON body: 40000 and 41300 (larger than the body limit). Query parameters: 40000.
 *
 * 43100 (headers too large) is left out: the HTTP parser answers it before any route is matched, so
 * it belongs to no operation (docs/api.md lists it for every request).
 */
export function routeErrorCodes(facts: RouteFacts, own: readonly ErrorCode[]): ErrorCode[] {
  const codes = new Set<ErrorCode>(own);
  codes.add(ErrorCode.INTERNAL);
  codes.add(ErrorCode.DEPENDENCY_UNAVAILABLE);
  if (!facts.isPublic) {
    codes.add(ErrorCode.UNAUTHENTICATED);
    codes.add(ErrorCode.ACCESS_TOKEN_EXPIRED);
    codes.add(ErrorCode.USER_DISABLED);
  }
  if (facts.hasRoles) codes.add(ErrorCode.ROLE_FORBIDDEN);
  for (const code of facts.guardCodes) codes.add(code);
  if (facts.hasBody || facts.hasQuery) codes.add(ErrorCode.VALIDATION_FAILED);
  if (facts.hasBody) codes.add(ErrorCode.PAYLOAD_TOO_LARGE);
  return [...codes].sort((a, b) => a - b);
}

/** One response per HTTP status, each the envelope with the codes of that status. */
export function errorResponses(codes: readonly ErrorCode[]): Record<string, ResponseObject> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of [...new Set(codes)].sort((a, b) => a - b)) {
    const status = httpStatusOf(code);
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus].sort(([a], [b]) => a - b).map(([status, group]) => [String(status), errorResponse(group)]),
  );
}

function errorResponse(codes: ErrorCode[]): ResponseObject {
  return {
    // The first line keeps the "code A / B" form that readers of the document already parse.
    description: [
      `code ${codes.join(' / ')}`,
      '',
      ...codes.map((code) => `- ${code}: ${DEFAULT_MESSAGES[code]}`),
    ].join('\n'),
    content: {
      'application/json': {
        schema: envelopeOf(dataSchema(codes), {
          code: { enum: codes, example: codes[0] },
          message: { example: DEFAULT_MESSAGES[codes[0]] },
        }),
        examples: Object.fromEntries(
          codes.map((code) => [
            String(code),
            {
              summary: DEFAULT_MESSAGES[code],
              value: {
                code,
                message: DEFAULT_MESSAGES[code],
                data: exampleData(code),
                requestId: REQUEST_ID_EXAMPLE,
              },
            },
          ]),
        ),
      },
    },
  };
}

/** `data` is null on failure except for the codes that carry details (docs/api.md, "Envelope"). */
function dataSchema(codes: ErrorCode[]): SchemaObject {
  const properties: Record<string, SchemaObject> = {};
  if (codes.includes(ErrorCode.VALIDATION_FAILED)) {
    properties.errors = {
      type: 'array',
      maxItems: INPUT_LIMITS.maxErrorsListed,
      description: 'with 40000: what is wrong with the request',
      items: {
        type: 'object',
        required: ['field', 'message'],
        properties: { field: { type: 'string' }, message: { type: 'string' } },
      },
    };
  }
  if (codes.includes(ErrorCode.WECHAT_ERROR)) {
    properties.wechatErrcode = {
      type: 'integer',
      description: "with 50200: WeChat's errcode, if it gave one",
    };
  }
  return Object.keys(properties).length === 0
    ? { type: 'object', nullable: true, example: null }
    : { type: 'object', nullable: true, properties };
}

function exampleData(code: ErrorCode): Record<string, unknown> | null {
  // An unknown property: refused the same way in a body and in a query string.
  if (code === ErrorCode.VALIDATION_FAILED) {
    return { errors: [{ field: 'extra', message: 'property extra should not exist' }] };
  }
  if (code === ErrorCode.WECHAT_ERROR) return { wechatErrcode: -1 };
  return null;
}

const OPERATION_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

interface Route {
  controller: Type<unknown>;
  handler: (...args: unknown[]) => unknown;
}

/** Route-level guards and the codes each can answer. */
export type GuardErrors = ReadonlyMap<Type<CanActivate>, readonly ErrorCode[]>;

/**
 * Completes the error responses of every enveloped operation of a freshly built OpenAPI document,
 * from the metadata of the handler behind it (see routeErrorCodes). Call it once, right after
 * SwaggerModule.createDocument; it changes `document` in place and returns it.
 *
 * `guardErrors` comes from the caller because common/ may not import the platform modules that
 * define those guards (the rate limit); a route-level guard missing from it stops the start-up, so
 * a new guard cannot go undocumented.
 *
 * Operations are matched to handlers by Swagger's default operationId, `<Controller>_<method>`. An
 * operation that matches no handler stops the start-up rather than go out with its errors missing
 * (a custom operationIdFactory would have to be mirrored here).
 */
export function documentRouteErrors(
  app: INestApplicationContext,
  document: OpenAPIObject,
  guardErrors: GuardErrors,
): OpenAPIObject {
  const controllers = new DiscoveryService(app.get(ModulesContainer))
    .getControllers()
    .map((wrapper) => wrapper.metatype as Type<unknown> | null)
    .filter((metatype): metatype is Type<unknown> => typeof metatype === 'function');
  return completeErrorResponses(document, controllers, guardErrors);
}

/** documentRouteErrors over the given controllers, without an application. */
export function completeErrorResponses(
  document: OpenAPIObject,
  controllers: readonly Type<unknown>[],
  guardErrors: GuardErrors,
): OpenAPIObject {
  const reflector = new Reflector();
  const routes = routesByOperationId(controllers);
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of OPERATION_METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const route = operation.operationId === undefined ? undefined : routes.get(operation.operationId);
      if (!route) {
        throw new Error(
          `OpenAPI: no handler found for ${method.toUpperCase()} ${path} (operationId ${operation.operationId})`,
        );
      }
      // Probes and metrics answer outside the envelope: their answers are their own.
      if (isRawResponse(reflector, route.handler as () => unknown)) continue;
      const own = reflector.get<ErrorCode[] | undefined>(HANDLER_ERRORS_KEY, route.handler) ?? [];
      const where = `${method.toUpperCase()} ${path}`;
      const codes = routeErrorCodes(factsOf(reflector, route, operation, guardErrors, where), own);
      operation.responses = withErrors(operation.responses, codes);
    }
  }
  return document;
}

function factsOf(
  reflector: Reflector,
  { controller, handler }: Route,
  operation: OperationObject,
  guardErrors: GuardErrors,
  where: string,
): RouteFacts {
  const targets = [handler, controller];
  const policy = accessPolicyOf(reflector, handler as () => unknown, controller as Type<unknown>);
  const guards = reflector.getAllAndMerge<Array<Type<CanActivate> | CanActivate>>(GUARDS_METADATA, targets);
  const guardCodes = guards.flatMap((guard) => {
    const type = typeof guard === 'function' ? guard : (guard.constructor as Type<CanActivate>);
    const codes = guardErrors.get(type);
    if (!codes) throw new Error(`OpenAPI: no error codes given for ${type.name}, a guard of ${where}`);
    return codes;
  });
  return {
    // The global AccessGuard's own rule, so the document says what it does.
    isPublic: policy.public,
    hasRoles: policy.roles !== null,
    guardCodes,
    // From the document itself: Swagger read the @Body() and @Query() parameters already.
    hasBody: operation.requestBody !== undefined,
    hasQuery: (operation.parameters ?? []).some((parameter) => 'in' in parameter && parameter.in === 'query'),
  };
}

/** The success answers as they were, then one error response per status, in order. */
function withErrors(responses: ResponsesObject, codes: ErrorCode[]): ResponsesObject {
  const kept = Object.entries(responses).filter(([status]) => !/^[45]\d\d$/.test(status));
  return { ...Object.fromEntries(kept), ...errorResponses(codes) };
}

function routesByOperationId(controllers: readonly Type<unknown>[]): Map<string, Route> {
  const scanner = new MetadataScanner();
  const routes = new Map<string, Route>();
  // A controller shared by several modules is listed once per module.
  for (const controller of new Set(controllers)) {
    const prototype = controller.prototype as Record<string, (...args: unknown[]) => unknown>;
    for (const name of scanner.getAllMethodNames(prototype)) {
      const handler = prototype[name];
      if (Reflect.getMetadata(PATH_METADATA, handler) === undefined) continue;
      const id = `${controller.name}_${name}`;
      if (routes.has(id)) throw new Error(`OpenAPI: two handlers share the operationId ${id}`);
      routes.set(id, { controller, handler });
    }
  }
  return routes;
}
