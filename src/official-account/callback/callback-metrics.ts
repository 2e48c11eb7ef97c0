import { Injectable } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { MetricsService } from '../../metrics/metrics.service.js';

export type CallbackType = 'verify' | 'text' | 'event' | 'other';
export type CallbackOutcome = 'reply' | 'success' | 'duplicate' | 'late' | 'refused';

/** The callback's counters, on the app's own registry (so /metrics shows them with the rest). */
@Injectable()
export class CallbackMetrics {
  readonly callbacks: Counter<'type' | 'outcome'>;
  readonly duration: Histogram;

  constructor(metrics: MetricsService) {
    this.callbacks = new Counter({
      name: 'wechat_oa_callbacks_total',
      help: "The official account's callbacks by type (verify, text, event, other) and outcome (reply, success, duplicate, late, refused)",
      labelNames: ['type', 'outcome'] as const,
      registers: [metrics.registry],
    });
    this.duration = new Histogram({
      name: 'wechat_oa_callback_duration_seconds',
      help: "Time to answer the official account's callbacks",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 4, 5],
      registers: [metrics.registry],
    });
  }

  record(type: CallbackType, outcome: CallbackOutcome, seconds: number): void {
    this.callbacks.inc({ type, outcome });
    this.duration.observe(seconds);
  }
}
