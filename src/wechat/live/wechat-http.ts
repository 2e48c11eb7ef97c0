import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import CircuitBreaker from 'opossum';
import { Agent, request as undiciRequest } from 'undici';
import { AppError } from '../../common/errors/app-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import { wechatConfig, type WechatSlice } from '../../config/config.slices.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { BUSY_ERRCODE } from '../wechat-errors.js';

export interface WechatRequest {
  /** Label for metrics and logs: jscode2session, stable_token, getuserphonenumber, … */
  api: string;
  method: 'GET' | 'POST';
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  /** epoch ms by which the whole operation, retries included, must be over. */
  deadline: number;
  /**
   * false: an errcode -1 (busy) is handed back at once instead of being retried within the
   * deadline, for callers that schedule their own attempts (subscribe messages: one attempt is one
   * call to WeChat).
   */
  retryBusy?: boolean;
  /**
   * Fields of the answer holding 64-bit integers (a template message's msgid), read as their decimal
   * text: JSON.parse would round them past 2^53.
   */
  integerStrings?: readonly string[];
}

/** WeChat answers errors as HTTP 200 `{errcode, errmsg}`; success may or may not carry errcode 0. */
export type WechatAnswer = Record<string, unknown> & { errcode?: number; errmsg?: string };

/** Failures that say WeChat itself is unwell (not its errcodes): they feed the circuit breaker. */
class TransportFailure extends Error {
  constructor(
    readonly kind: 'timeout' | 'network' | 'http_5xx' | 'bad_answer',
    message: string,
  ) {
    super(message);
  }
}

const BREAKER_FAILURES = 5;
const BREAKER_OPEN_MS = 10_000;

/**
 * HTTP to WECHAT_API_BASE_URL on undici: one deadline per operation (WECHAT_TIMEOUT_MS),
 * errcode -1 (busy) retried with backoff inside it, and a circuit breaker (opossum) that stops
 * calling WeChat for 10 s after 5 consecutive timeouts, 5xx answers or network errors, then lets
 * one trial call through. Errcodes other than -1 are returned for the caller to judge.
 */
@Injectable()
export class WechatHttp implements OnApplicationShutdown {
  readonly baseUrl: string;
  readonly timeoutMs: number;
  private readonly breaker: CircuitBreaker<[WechatRequest, number], WechatAnswer>;
  private consecutiveFailures = 0;
  /**
   * undici's request() on a pool of its own rather than fetch(): the same client without the WHATWG
   * layers, which cost 15 % of a login's CPU in the profile (BENCHMARKS.md). Connections are kept
   * alive between calls; WeChat's hosts are few.
   */
  private readonly agent = new Agent({ keepAliveTimeout: 30_000, connections: 128 });

  constructor(
    @Inject(wechatConfig.KEY) wechat: Pick<WechatSlice, 'apiBaseUrl' | 'timeoutMs'>,
    private readonly metrics: MetricsService,
  ) {
    this.baseUrl = wechat.apiBaseUrl;
    this.timeoutMs = wechat.timeoutMs;
    // opossum trips on an error percentage over a rolling window; the contract asks for
    // consecutive failures, so the count is kept here and opossum is opened explicitly. Its
    // half-open state then lets exactly one trial call through.
    this.breaker = new CircuitBreaker(
      (request: WechatRequest, attemptMs: number) => this.send(request, attemptMs),
      {
        timeout: false,
        resetTimeout: BREAKER_OPEN_MS,
        volumeThreshold: Number.MAX_SAFE_INTEGER,
        errorThresholdPercentage: 100,
        errorFilter: (error: unknown) => !(error instanceof TransportFailure),
      },
    );
    this.breaker.on('success', () => {
      this.consecutiveFailures = 0;
    });
    this.breaker.on('failure', (error: unknown) => {
      if (!(error instanceof TransportFailure)) return;
      this.consecutiveFailures++;
      if (this.consecutiveFailures >= BREAKER_FAILURES && !this.breaker.opened) this.breaker.open();
    });
  }

  /** A deadline for an operation starting now. */
  deadline(): number {
    return Date.now() + this.timeoutMs;
  }

  async call(request: WechatRequest): Promise<WechatAnswer> {
    for (let attempt = 0; ; attempt++) {
      const remaining = request.deadline - Date.now();
      if (remaining <= 0) throw new AppError(ErrorCode.WECHAT_TIMEOUT);
      const answer = await this.fire(request, remaining);
      if (answer.errcode !== BUSY_ERRCODE || request.retryBusy === false) return answer;
      const backoff = Math.min(50 * 2 ** attempt, 800);
      if (request.deadline - Date.now() <= backoff + 50) {
        throw new AppError(ErrorCode.WECHAT_ERROR, 'WeChat is busy', {
          data: { wechatErrcode: BUSY_ERRCODE },
        });
      }
      await sleep(backoff);
    }
  }

  private async fire(request: WechatRequest, attemptMs: number): Promise<WechatAnswer> {
    const started = performance.now();
    try {
      const answer = await this.breaker.fire(request, attemptMs);
      this.record(request.api, String(answer.errcode ?? 0), started);
      return answer;
    } catch (error) {
      if (error instanceof TransportFailure) {
        this.record(request.api, error.kind, started);
        throw error.kind === 'timeout'
          ? new AppError(ErrorCode.WECHAT_TIMEOUT)
          : new AppError(ErrorCode.WECHAT_ERROR, `WeChat unreachable (${error.kind})`);
      }
      if ((error as { code?: string }).code === 'EOPENBREAKER') {
        this.record(request.api, 'circuit_open', started);
        throw new AppError(
          ErrorCode.DEPENDENCY_UNAVAILABLE,
          'WeChat is failing; calls paused for a few seconds',
        );
      }
      throw error;
    }
  }

  private record(api: string, errcode: string, started: number): void {
    this.metrics.wechatCalls.inc({ api, errcode });
    this.metrics.wechatDuration.observe({ api }, (performance.now() - started) / 1000);
  }

  private async send(request: WechatRequest, attemptMs: number): Promise<WechatAnswer> {
    // A timer cleared once the answer is in, not AbortSignal.timeout(): that one's timer outlives the
    // call, so under load thousands of finished calls kept their signal alive for WECHAT_TIMEOUT_MS
    // and then each built a DOMException to abort nothing (memory and GC in the login profile).
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), attemptMs);
    try {
      return await this.exchange(request, controller.signal);
    } catch (error) {
      if (error instanceof TransportFailure) throw error;
      if (controller.signal.aborted) throw new TransportFailure('timeout', 'timed out');
      throw new TransportFailure('network', (error as Error).message);
    } finally {
      clearTimeout(timer);
    }
  }

  private async exchange(request: WechatRequest, signal: AbortSignal): Promise<WechatAnswer> {
    const url = new URL(this.baseUrl + request.path);
    for (const [key, value] of Object.entries(request.query ?? {})) url.searchParams.set(key, value);
    const response = await undiciRequest(url, {
      dispatcher: this.agent,
      method: request.method,
      headers: request.body === undefined ? undefined : { 'content-type': 'application/json' },
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      signal,
    });
    const text = await response.body.text();
    if (response.statusCode >= 500) throw new TransportFailure('http_5xx', `HTTP ${response.statusCode}`);
    let source = text;
    for (const field of request.integerStrings ?? []) {
      source = source.replace(new RegExp(`"${field}"\\s*:\\s*(-?\\d+)`, 'g'), `"${field}":"$1"`);
    }
    try {
      const parsed: unknown = JSON.parse(source);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as WechatAnswer;
    } catch {
      // fall through
    }
    throw new TransportFailure('bad_answer', `HTTP ${response.statusCode} without a JSON object`);
  }

  /**
   * After the HTTP server has drained (Nest runs shutdown hooks after closing it): close() waits for
   * calls in flight, and as a destroy hook it held the listener open for as long on SIGTERM.
   */
  async onApplicationShutdown(): Promise<void> {
    await this.agent.close();
  }
}
