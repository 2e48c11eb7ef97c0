import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics of this app instance. A registry of its own (not prom-client's global one)
 * so several apps in one process — the multi-instance tests — never share or clash.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly wechatCalls = new Counter({
    name: 'wechat_calls_total',
    help: 'Calls to the WeChat API by api and errcode (0 success; "timeout", "network", "http_5xx", "circuit_open" otherwise)',
    labelNames: ['api', 'errcode'] as const,
    registers: [this.registry],
  });

  readonly wechatDuration = new Histogram({
    name: 'wechat_call_duration_seconds',
    help: 'Latency of calls to the WeChat API, by api',
    labelNames: ['api'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly wechatPayCalls = new Counter({
    name: 'wechat_pay_calls_total',
    help: 'Calls to WeChat Pay by api and status (its HTTP status; "unverified" for an answer that failed verification, "timeout" for none)',
    labelNames: ['api', 'status'] as const,
    registers: [this.registry],
  });

  readonly accessTokenFetches = new Counter({
    name: 'wechat_access_token_fetches_total',
    help: 'stable_token fetches made by this instance, by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly accessTokenLockWaits = new Histogram({
    name: 'wechat_access_token_lock_wait_seconds',
    help: 'Time callers waited for another caller (any instance) to fetch the access token',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly jsapiTicketFetches = new Counter({
    name: 'wechat_jsapi_ticket_fetches_total',
    help: "The official account's jsapi_ticket fetches made by this instance, by result (ok, error)",
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly logins = new Counter({
    name: 'auth_logins_total',
    help: 'wx.login exchanges by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly rateLimited = new Counter({
    name: 'rate_limit_rejections_total',
    help: 'Requests refused by a rate limit, by limit name',
    labelNames: ['limit'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  observeHttp(method: string, route: string, status: number, seconds: number): void {
    const labels = { method, route, status: String(status) };
    this.httpRequests.inc(labels);
    this.httpDuration.observe(labels, seconds);
  }
}
