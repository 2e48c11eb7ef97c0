import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Agent, request as undiciRequest } from 'undici';
import { AppError } from '../../common/errors/app-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import type { MetricsService } from '../../metrics/metrics.service.js';
import type { RequestSigner } from '../crypto/request-signer.js';
import { VerificationFailed, type HeaderBag, type SignatureVerifier } from '../crypto/signature-verifier.js';
import { parseObject } from '../wechat-pay-wire.js';

/** The `api` label of wechat_pay_calls_total. */
export type PayApi = 'prepay' | 'query' | 'close' | 'refund' | 'refund_query' | 'certificates';

export interface PayRequest {
  api: PayApi;
  method: 'GET' | 'POST';
  /** Path and query, exactly as signed: /v3/pay/transactions/out-trade-no/X?mchid=1900000109 */
  pathAndQuery: string;
  body?: Record<string, unknown>;
}

/** An answer as it arrived: the raw bytes are what its signature covers. */
export interface PayAnswer {
  status: number;
  headers: HeaderBag;
  body: Buffer;
}

/** A 2xx answer that verified; `json` is undefined for 204. */
export interface VerifiedAnswer {
  status: number;
  json: Record<string, unknown> | undefined;
}

/**
 * HTTP to WECHAT_PAY_API_BASE_URL: each request signed (Authorization), bounded by
 * WECHAT_TIMEOUT_MS, never retried (a retried refund or prepay is WeChat Pay's business to
 * deduplicate, and the caller decides), and each 2xx answer verified before anything reads it.
 *
 * Outcomes: a verified 2xx is returned; a 2xx that fails verification is 502 / 50202; 4xx/5xx is
 * 502 / 50201 with data { wechatPayCode, httpStatus } whatever the body says; no answer in time,
 * a refused or reset connection is 504 / 50400. Logs name the api and the outcome only: never the
 * Authorization header, a body, or a key.
 */
export class WechatPayHttp implements OnApplicationShutdown {
  private readonly logger = new Logger('WechatPay');
  /** A pool of its own, like the WeChat client's: few hosts, connections kept alive. */
  private readonly agent = new Agent({ keepAliveTimeout: 30_000, connections: 64 });
  private closing: Promise<void> | undefined;

  constructor(
    private readonly options: { apiBaseUrl: string; timeoutMs: number },
    private readonly signer: RequestSigner,
    private readonly metrics: MetricsService,
  ) {}

  /** The call, its answer verified with the service's keys. */
  async call(request: PayRequest, verifier: SignatureVerifier): Promise<VerifiedAnswer> {
    const answer = await this.exchange(request);
    return this.accept(request.api, answer, () => verifier.verify(answer.headers, answer.body));
  }

  /**
   * Judges an answer: 4xx/5xx is 50201 whatever it says; a 2xx is used only once `verify` resolves
   * (50202 when it rejects VerificationFailed). Counted in wechat_pay_calls_total either way.
   */
  async accept(api: PayApi, answer: PayAnswer, verify: () => Promise<void>): Promise<VerifiedAnswer> {
    if (answer.status < 200 || answer.status >= 300) {
      this.count(api, String(answer.status));
      const code = parseObject(answer.body)?.code;
      const wechatPayCode = typeof code === 'string' ? code : null;
      this.logger.warn(`${api}: WeChat Pay answered HTTP ${answer.status} ${wechatPayCode ?? '(no code)'}`);
      throw new AppError(ErrorCode.WECHAT_PAY_ERROR, `WeChat Pay refused the ${api} call`, {
        data: { wechatPayCode, httpStatus: answer.status },
      });
    }
    try {
      await verify();
    } catch (error) {
      if (!(error instanceof VerificationFailed)) throw error;
      this.count(api, 'unverified');
      this.logger.error(
        `${api}: WeChat Pay's answer failed verification and was not used (${error.message})`,
      );
      throw new AppError(ErrorCode.WECHAT_PAY_UNVERIFIED);
    }
    this.count(api, String(answer.status));
    if (answer.status === 204 || answer.body.length === 0) return { status: answer.status, json: undefined };
    const json = parseObject(answer.body);
    // Verified yet unreadable: not used, and not taken as a refusal either (a refund might have been made).
    if (!json) throw new AppError(ErrorCode.WECHAT_PAY_UNVERIFIED, `the ${api} answer is not JSON`);
    return { status: answer.status, json };
  }

  /** Signed request, raw answer; only transport failures are judged here (504 / 50400). */
  async exchange(request: PayRequest): Promise<PayAnswer> {
    const body = request.body === undefined ? '' : JSON.stringify(request.body);
    const headers: Record<string, string> = {
      accept: 'application/json',
      authorization: this.signer.authorization(request.method, request.pathAndQuery, body),
      'user-agent': 'wechat-miniprogram-backend',
    };
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    // A timer cleared with the answer (WechatHttp explains why not AbortSignal.timeout()); it
    // covers the body too, so a server that sends headers and then stalls is a timeout as well.
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.options.timeoutMs);
    try {
      const response = await undiciRequest(this.options.apiBaseUrl + request.pathAndQuery, {
        dispatcher: this.agent,
        method: request.method,
        headers,
        body: request.body === undefined ? undefined : body,
        signal: controller.signal,
      });
      const bytes = Buffer.from(await response.body.arrayBuffer());
      return { status: response.statusCode, headers: response.headers, body: bytes };
    } catch (error) {
      this.count(request.api, 'timeout');
      const why = controller.signal.aborted
        ? `no answer within ${this.options.timeoutMs} ms`
        : errorCode(error);
      this.logger.warn(`${request.api}: WeChat Pay did not answer (${why})`);
      throw new AppError(ErrorCode.WECHAT_TIMEOUT, 'WeChat Pay did not answer');
    } finally {
      clearTimeout(timer);
    }
  }

  private count(api: PayApi, status: string): void {
    this.metrics.wechatPayCalls.inc({ api, status });
  }

  /** Waits for calls in flight; once (a second close of the pool would reject). */
  async onApplicationShutdown(): Promise<void> {
    this.closing ??= this.agent.close();
    await this.closing;
  }
}

/** ECONNREFUSED, ECONNRESET, UND_ERR_SOCKET…: the kind of failure, never a message that could quote data. */
function errorCode(error: unknown): string {
  const seen = new Set<unknown>();
  for (let current = error; current && !seen.has(current); current = (current as { cause?: unknown }).cause) {
    seen.add(current);
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return 'network error';
}
