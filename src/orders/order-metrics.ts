import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { MetricsService } from '../metrics/metrics.service.js';

export type NotificationResult = 'applied' | 'duplicate' | 'rejected' | 'invalid' | 'error';

/** The shop's counters, on the app's own registry (so /metrics shows them with the rest). */
@Injectable()
export class OrderMetrics {
  /** Orders entering each status, counted after the commit that moved them. */
  readonly orders: Counter<'status'>;
  readonly notifications: Counter<'kind' | 'result'>;

  constructor(metrics: MetricsService) {
    this.orders = new Counter({
      name: 'orders_total',
      help: 'Orders entering each status',
      labelNames: ['status'] as const,
      registers: [metrics.registry],
    });
    this.notifications = new Counter({
      name: 'pay_notifications_total',
      help: 'WeChat Pay notifications by kind (transaction, refund) and result',
      labelNames: ['kind', 'result'] as const,
      registers: [metrics.registry],
    });
  }
}
