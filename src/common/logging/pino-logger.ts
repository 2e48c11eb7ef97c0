import { createRequire } from 'node:module';
import type { LoggerService } from '@nestjs/common';
import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * Anything that could carry a secret or a personal identifier is censored by key wherever it
 * appears in a log object (two levels deep), whatever module logged it.
 */
const SENSITIVE_KEYS = [
  'authorization',
  'accessToken',
  'access_token',
  'refreshToken',
  'refresh_token',
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
  // A TypeORM QueryFailedError's statement values (openids, phones).
  'parameters',
];
/**
 * `code` is a wx.login or phone-button code only inside what a client or WeChat sent; anywhere else
 * (`err.code`, a driver's `ER_LOCK_DEADLOCK`, `ECONNREFUSED`) it is the diagnosis the line exists for.
 */
const PAYLOADS = ['body', 'payload', 'params', 'query', 'data'];
const REDACT = [
  ...SENSITIVE_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]),
  ...PAYLOADS.flatMap((payload) => [`${payload}.code`, `*.${payload}.code`]),
];

export interface PinoLoggerOptions {
  /** Human-readable lines (pino-pretty) instead of JSON: development on a terminal. */
  pretty?: boolean;
  /** Where lines go; stdout by default. */
  destination?: DestinationStream;
}

interface PrettyModule {
  prettyFactory(options: Record<string, unknown>): (line: string) => string;
}

const requireOptional = createRequire(import.meta.url);

/**
 * JSON lines on stdout, written asynchronously: each write(2) carries every line logged while the
 * previous one was in flight, so a busy instance makes one syscall per batch and a quiet one still
 * logs at once. Flushed on exit; a SIGKILL may lose the last few lines. The synchronous per-line
 * write was 3 % of GET /users/me. Pretty printing costs more than the request it describes, so
 * only a developer's terminal gets it.
 */
export function createPinoLogger(level: string, options: PinoLoggerOptions = {}): Logger {
  const settings = { level, redact: { paths: REDACT, censor: '[redacted]' } };
  if (level === 'silent') return pino(settings);
  const destination = options.destination ?? pino.destination({ dest: 1, sync: false });
  const pretty = options.pretty ? prettyDestination(destination) : undefined;
  const logger = pino(settings, pretty ?? destination);
  if (options.pretty && !pretty) logger.info('pino-pretty is not installed: logging JSON');
  return logger;
}

/**
 * pino-pretty formatting lines into `target`, or undefined when the package is absent: it is a
 * development dependency, so a production install (`npm ci --omit=dev`) has none and logs JSON.
 * Formatted in the logging call (no worker thread), since a terminal's reader is a person.
 */
export function prettyDestination(
  target: DestinationStream,
  load: () => PrettyModule = () => requireOptional('pino-pretty') as PrettyModule,
): DestinationStream | undefined {
  let module: PrettyModule;
  try {
    module = load();
  } catch (error) {
    if ((error as { code?: unknown }).code === 'MODULE_NOT_FOUND') return undefined;
    throw error;
  }
  const format = module.prettyFactory({
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,context',
    messageFormat: '{if context}[{context}] {end}{msg}',
  });
  return { write: (line: string) => target.write(format(line)) };
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
      // logger.warn({ fields }, 'text') through a Nest Logger arrives as (fields, 'text', context).
      const { msg, ...fields } = message as Record<string, unknown>;
      const text =
        typeof msg === 'string' ? msg : rest.length > 1 && typeof rest[0] === 'string' ? rest[0] : undefined;
      this.logger[level]({ context, ...fields }, text);
    } else {
      this.logger[level]({ context }, String(message));
    }
  }
}
