import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { OrderRefunds } from './order-refunds.service.js';
import { OrderRepository } from './order.repository.js';
import { eachLimited, ORDER_POLLING, PeriodicTask, type OrderPolling } from './periodic-task.js';
import type { RefundEntity } from './refund.entity.js';

const BATCH = 50;
const PARALLEL = 4;

/**
 * Refunds nobody reported on: each pass takes the `processing` refunds whose nextQueryAt has come
 * (60 s after the request at first), moves that time on by `retryAfterMs` in one conditional UPDATE
 * (the claim: one instance per refund; a crash only delays it) and asks WeChat Pay. So a refund is
 * queried at least every retryAfterMs until it ends, restarts included.
 */
@Injectable()
export class RefundQueryPoller
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly log = new Logger('RefundQueries');
  private readonly task: PeriodicTask;

  constructor(
    private readonly orders: OrderRepository,
    private readonly refunds: OrderRefunds,
    @Inject(ORDER_POLLING) private readonly polling: OrderPolling,
  ) {
    this.task = new PeriodicTask('refund queries', polling.refundsEveryMs, (now) => this.pass(now), this.log);
  }

  onApplicationBootstrap(): void {
    this.task.start();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.task.stop();
  }

  onApplicationShutdown(): Promise<void> {
    return this.task.stop();
  }

  /** One pass as of `now`, after any under way. */
  tick(now?: Date): Promise<void> {
    return this.task.run(now);
  }

  private async pass(now: Date): Promise<void> {
    const due = await this.orders.findRefundsDue(now, BATCH);
    await eachLimited(due, PARALLEL, (refund) => this.query(refund, now));
  }

  private async query(refund: RefundEntity, now: Date): Promise<void> {
    const next = new Date(now.getTime() + this.polling.retryAfterMs);
    if (!(await this.orders.claimRefundQuery(refund.id, now, next))) return;
    try {
      await this.refunds.check(refund.id);
    } catch (error) {
      this.log.warn(`refund ${refund.id} not ended yet: ${(error as Error)?.message ?? String(error)}`);
    }
  }
}
