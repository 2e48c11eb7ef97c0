import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';

/**
 * JSON answers get the headers OWASP's REST Security Cheat Sheet asks of an API: nothing may be
 * loaded or framed from them, no MIME sniffing, HTTPS only, and no caching of answers that carry
 * tokens and personal data. helmet's page-oriented rest (COOP, origin-agent-cluster, DNS prefetch,
 * download options, …) means nothing to wx.request or to a JSON body, and each header costs the
 * hottest route: the full set of 12 took ~20 % of a bare Fastify server's throughput here.
 */
const API_OPTIONS: HelmetOptions = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
  },
  crossOriginOpenerPolicy: false,
  crossOriginResourcePolicy: false,
  originAgentCluster: false,
  referrerPolicy: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xFrameOptions: { action: 'deny' },
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false,
};

/** Swagger UI is a page: helmet's full set, with the inline styles and scripts it needs. */
const DOCS_OPTIONS: HelmetOptions = {
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      scriptSrc: ["'self'", "'unsafe-inline'"],
    },
  },
};

export interface SecurityHeaders {
  api: Readonly<Record<string, string>>;
  docs: Readonly<Record<string, string>>;
}

/**
 * helmet's headers, worked out once at start-up: with options that depend on nothing in the
 * request they are the same for every answer, whereas @fastify/helmet rebuilt the whole helmet
 * middleware (CSP parsing included) on every request (5 % of GET /users/me's CPU, BENCHMARKS.md).
 */
export function securityHeaders(): SecurityHeaders {
  return {
    api: { ...headersOf(API_OPTIONS), 'Cache-Control': 'no-store' },
    docs: headersOf(DOCS_OPTIONS),
  };
}

function headersOf(options: HelmetOptions): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader(name: string, value: unknown) {
      headers[name] = String(value);
    },
    removeHeader(name: string) {
      delete headers[name];
    },
  };
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, () => undefined);
  return Object.freeze(headers);
}
