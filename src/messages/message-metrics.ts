import { Injectable, Logger } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { MetricsService } from '../metrics/metrics.service.js';
import { MessageRepository } from './message.repository.js';

export type MessageKindLabel = 'subscribe' | 'template' | 'custom';

/** The messages' counters, on the app's own registry (so /metrics shows them with the rest). */
@Injectable()
export class MessageMetrics {
  /** Messages that reached an end: sent, or failed (subscribe: after its last attempt). */
  readonly messages: Counter<'kind' | 'result'>;
  readonly queued: Gauge;
  private readonly log = new Logger('MessageMetrics');

  constructor(metrics: MetricsService, messages: MessageRepository) {
    this.messages = new Counter({
      name: 'wechat_messages_total',
      help: 'WeChat messages by kind (subscribe, template, custom) and result (sent, failed)',
      labelNames: ['kind', 'result'] as const,
      registers: [metrics.registry],
    });
    const log = this.log;
    this.queued = new Gauge({
      name: 'wechat_messages_queued',
      help: 'Subscribe messages queued in the database (every instance reports the same number)',
      registers: [metrics.registry],
      // Read when scraped: the database is the record, whichever instance queued or sends them.
      async collect() {
        try {
          this.set(await messages.countQueued());
        } catch (error) {
          log.debug(`wechat_messages_queued not read: ${(error as Error)?.message ?? String(error)}`);
        }
      },
    });
  }

  count(kind: MessageKindLabel, result: 'sent' | 'failed'): void {
    this.messages.inc({ kind, result });
  }
}
