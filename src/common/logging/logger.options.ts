import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';

/**
 * Structured JSON logs (no pretty printing: it costs more than the request). Anything that could
 * carry a secret or a personal identifier is censored by key wherever it appears.
 */
const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  ...[
    'authorization',
    'accessToken',
    'access_token',
    'refreshToken',
    'code',
    'js_code',
    'secret',
    'appSecret',
    'sessionKey',
    'session_key',
    'openid',
    'openId',
    'unionid',
    'unionId',
    'phone',
    'phoneNumber',
    'purePhoneNumber',
    'encryptedData',
    'iv',
  ].flatMap((key) => [key, `*.${key}`, `*.*.${key}`]),
];

export function loggerOptions(level: string): Params {
  return {
    pinoHttp: {
      level,
      redact: { paths: REDACT, censor: '[redacted]' },
      // The id was chosen by Fastify's genReqId (common/http/request-id.ts) and put on the raw request.
      genReqId: (req: IncomingMessage) => (req as IncomingMessage & { id?: string }).id ?? 'unknown',
      customLogLevel: (_req: IncomingMessage, res: ServerResponse, error?: Error) =>
        error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
      serializers: {
        // The path only: query strings are not logged.
        req: (req: { id: string; method: string; url: string }) => ({
          id: req.id,
          method: req.method,
          url: req.url?.split('?')[0],
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      autoLogging: { ignore: (req: IncomingMessage) => req.url?.startsWith('/api/v1/health') ?? false },
    },
  };
}
