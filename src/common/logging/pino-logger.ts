import type { LoggerService } from '@nestjs/common';
import { pino, type Logger } from 'pino';

/**
 * Anything that could carry a secret or a personal identifier is censored by key wherever it
 * appears in a log object (two levels deep), whatever module logged it.
 */
const SENSITIVE_KEYS = [
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
];
const REDACT = SENSITIVE_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]);

/**
 * JSON lines on stdout, no pretty printing (it costs more than the request it describes), written
 * asynchronously: each write(2) carries every line logged while the previous one was in flight, so
 * a busy instance makes one syscall per batch and a quiet one still logs at once. Flushed on exit;
 * a SIGKILL may lose the last few lines. The synchronous per-line write was 3 % of GET /users/me.
 */
export function createPinoLogger(level: string): Logger {
  const options = { level, redact: { paths: REDACT, censor: '[redacted]' } };
  if (level === 'silent') return pino(options);
  return pino(options, pino.destination({ dest: 1, sync: false }));
}

/**
 * Nest's LoggerService on pino, so framework and application logs share one structured stream.
 * (nestjs-pino would do this, but it is CommonJS that require()s the ESM-only @nestjs/common 12,
 * which Jest cannot load on Node 20; request lines are written by an onResponse hook instead.)
 */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  private write(
    level: 'info' | 'error' | 'warn' | 'debug' | 'trace' | 'fatal',
    message: unknown,
    rest: unknown[],
  ): void {
    if (!this.logger.isLevelEnabled(level)) return;
    // Nest passes the context as the last string argument; error() may pass a stack before it.
    const context = typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : undefined;
    if (message instanceof Error) {
      this.logger[level]({ context, err: message }, message.message);
    } else if (message !== null && typeof message === 'object') {
      const { msg, ...fields } = message as Record<string, unknown>;
      this.logger[level]({ context, ...fields }, typeof msg === 'string' ? msg : undefined);
    } else {
      this.logger[level]({ context }, String(message));
    }
  }
}
