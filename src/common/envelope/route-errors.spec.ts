import { Controller, Get, Injectable, Post, UseGuards, type CanActivate } from '@nestjs/common';
import type { OpenAPIObject, OperationObject } from '@nestjs/swagger';
import { Public, Roles } from '../auth/decorators.js';
import { ErrorCode } from '../errors/error-code.js';
import { ApiEnvelope } from './api-envelope.decorator.js';
import { RawResponse } from './envelope.js';
import { completeErrorResponses, errorResponses, routeErrorCodes, type RouteFacts } from './route-errors.js';

@Injectable()
class LimitGuard implements CanActivate {
  canActivate(): boolean {
    return true;
  }
}

@Controller('things')
class ThingsController {
  @Get()
  @ApiEnvelope(null, [ErrorCode.NOT_FOUND])
  read(): null {
    return null;
  }

  @Public()
  @UseGuards(LimitGuard)
  @Post()
  @ApiEnvelope(null, [ErrorCode.CONFLICT])
  create(): null {
    return null;
  }

  @Get('probe')
  @RawResponse()
  probe(): object {
    return {};
  }
}

@Roles('admin')
@Controller('admin')
class AdminController {
  @Get()
  list(): null {
    return null;
  }
}

const facts = (changes: Partial<RouteFacts> = {}): RouteFacts => ({
  isPublic: false,
  hasRoles: false,
  guardCodes: [],
  hasBody: false,
  hasQuery: false,
  ...changes,
});

const op = (operationId: string, extra: Partial<OperationObject> = {}): OperationObject => ({
  operationId,
  responses: { '200': { description: '' } },
  ...extra,
});

function documentOf(paths: OpenAPIObject['paths']): OpenAPIObject {
  return { openapi: '3.0.0', info: { title: 'test', version: '1' }, paths };
}

const codesOf = (operation: OperationObject | undefined): number[] =>
  Object.values(operation?.responses ?? {}).flatMap((response) => {
    const schema = (response as { content?: Record<string, { schema?: unknown }> }).content?.[
      'application/json'
    ]?.schema as { properties?: { code?: { enum?: number[] } } } | undefined;
    return schema?.properties?.code?.enum ?? [];
  });

describe('routeErrorCodes', () => {
  it('gives a signed-in route without input the token, user and dependency codes', () => {
    expect(routeErrorCodes(facts(), [])).toEqual([40100, 40101, 40301, 50000, 50300]);
  });

  it('gives a public route none of the token codes, but its guards, its body and its own', () => {
    expect(
      routeErrorCodes(facts({ isPublic: true, hasBody: true, guardCodes: [ErrorCode.RATE_LIMITED] }), [
        ErrorCode.REFRESH_TOKEN_INVALID,
      ]),
    ).toEqual([40000, 40102, 41300, 42900, 50000, 50300]);
  });

  it('adds 40300 for roles, and 40000 without 41300 for a query', () => {
    const codes = routeErrorCodes(facts({ hasRoles: true, hasQuery: true }), []);
    expect(codes).toEqual(expect.arrayContaining([40000, 40300]));
    expect(codes).not.toContain(41300);
  });

  it('lists a code given both by hand and by derivation once', () => {
    const codes = routeErrorCodes(facts(), [ErrorCode.UNAUTHENTICATED, ErrorCode.UNAUTHENTICATED]);
    expect(codes.filter((code) => code === 40100)).toHaveLength(1);
  });
});

describe('errorResponses', () => {
  it('makes one response per status, listing its codes in order', () => {
    const responses = errorResponses([ErrorCode.USER_DISABLED, ErrorCode.ROLE_FORBIDDEN, ErrorCode.INTERNAL]);
    expect(Object.keys(responses)).toEqual(['403', '500']);
    expect(responses['403'].description.split('\n')[0]).toBe('code 40300 / 40301');
  });
});

describe('completeErrorResponses', () => {
  const guards = new Map([[LimitGuard, [ErrorCode.RATE_LIMITED]]]);

  it('adds the derived codes to each operation and leaves the raw ones alone', () => {
    const document = documentOf({
      '/things': {
        get: op('ThingsController_read', {
          responses: { '200': { description: '' }, '404': { description: 'old' } },
        }),
        post: op('ThingsController_create', { requestBody: { content: {} } }),
      },
      '/things/probe': { get: op('ThingsController_probe') },
      '/admin': { get: op('AdminController_list') },
    });
    completeErrorResponses(document, [ThingsController, AdminController, ThingsController], guards);

    const read = document.paths['/things'].get;
    expect(Object.keys(read?.responses ?? {})).toEqual(['200', '401', '403', '404', '500', '503']);
    expect(codesOf(read)).toEqual([40100, 40101, 40301, 40400, 50000, 50300]);
    expect(codesOf(document.paths['/things'].post)).toEqual([40000, 40900, 41300, 42900, 50000, 50300]);
    expect(codesOf(document.paths['/admin'].get)).toContain(40300);
    expect(document.paths['/things/probe'].get?.responses).toEqual({ '200': { description: '' } });
  });

  it('refuses an operation it cannot trace to a handler', () => {
    const document = documentOf({ '/x': { get: op('Elsewhere_read') } });
    expect(() => completeErrorResponses(document, [ThingsController], guards)).toThrow(/GET \/x/);
  });

  it('refuses a route-level guard whose codes it was not told', () => {
    const document = documentOf({ '/things': { post: op('ThingsController_create') } });
    expect(() => completeErrorResponses(document, [ThingsController], new Map())).toThrow(/LimitGuard/);
  });
});
