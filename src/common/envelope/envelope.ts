import { RouteConfig } from '@nestjs/platform-fastify';
import type { Reflector } from '@nestjs/core';
import { FASTIFY_ROUTE_CONFIG_METADATA } from '@nestjs/platform-fastify/constants.js';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';

export interface Envelope<T> {
  code: number;
  message: string;
  data: T;
  requestId: string;
}

/**
 * The handler's answer leaves as is (health probes, metrics): outside the envelope by contract. The
 * mark lives in the Fastify route's config, where the serialisation hook reads it (isRawResponse()
 * reads the same for the OpenAPI document).
 */
export const RawResponse = () => RouteConfig({ rawResponse: true });

/** Whether `handler` is marked @RawResponse(). */
export function isRawResponse(reflector: Reflector, handler: () => unknown): boolean {
  return (
    reflector.get<{ rawResponse?: boolean } | undefined>(FASTIFY_ROUTE_CONFIG_METADATA, handler)
      ?.rawResponse === true
  );
}

export function envelope<T>(code: number, message: string, data: T, requestId: string): Envelope<T> {
  return { code, message, data, requestId };
}

/**
 * Wraps every successful answer of the API in the envelope inside Fastify's own serialisation
 * step, decided once per route when it is registered: no rxjs interceptor per request. Errors are
 * already envelopes (the exception filter builds them) and keep their status of 400 or more.
 * Routes outside `prefix` (docs) and those marked @RawResponse() are left alone.
 */
export function envelopeRoutes(fastify: FastifyInstance, prefix: string): void {
  fastify.addHook('onRoute', (route: RouteOptions) => {
    const url = route.url;
    const raw = (route.config as { rawResponse?: boolean } | undefined)?.rawResponse === true;
    if (!url.startsWith(prefix) || raw) return;
    route.preSerialization = [...hooks(route.preSerialization), wrapPayload];
    route.onSend = [...hooks(route.onSend), wrapEmpty];
  });
}

function hooks<T>(existing: T | T[] | undefined): T[] {
  return existing === undefined ? [] : Array.isArray(existing) ? existing : [existing];
}

function wrapPayload(
  request: FastifyRequest,
  reply: FastifyReply,
  payload: unknown,
  done: (error: Error | null, payload?: unknown) => void,
): void {
  done(null, reply.statusCode < 400 ? envelope(0, 'ok', payload, String(request.id)) : payload);
}

/** Fastify skips serialisation for an empty answer (a handler returning nothing): `data` is null. */
function wrapEmpty(
  request: FastifyRequest,
  reply: FastifyReply,
  payload: unknown,
  done: (error: Error | null, payload?: unknown) => void,
): void {
  if ((payload === undefined || payload === null || payload === '') && reply.statusCode < 400) {
    reply.header('content-type', 'application/json; charset=utf-8');
    done(null, JSON.stringify(envelope(0, 'ok', null, String(request.id))));
    return;
  }
  done(null, payload);
}
