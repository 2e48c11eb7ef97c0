import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { PeriodicSweep } from '../jobs/periodic-sweep.js';
import { LeasedSweep } from './leased-sweep.js';
import { OrderRefunds } from './order-refunds.service.js';
import { ORDER_POLLING, type OrderPolling } from './order-polling.js';
import { OrderRepository } from './order.repository.js';
import type { RefundEntity } from './refund.entity.js';

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
  private readonly task: PeriodicSweep;

  constructor(
    private readonly orders: OrderRepository,
    private readonly refunds: OrderRefunds,
    @Inject(ORDER_POLLING) polling: OrderPolling,
  ) {
    const due = new LeasedSweep<RefundEntity>(
      {
        noun: 'refund',
        unsettled: 'not ended yet',
        findDue: (now, limit) => this.orders.findRefundsDue(now, limit),
        claim: (refund, now) =>
          this.orders.claimRefundQuery(refund.id, now, new Date(now.getTime() + polling.retryAfterMs)),
        settle: (refund) => this.refunds.check(refund.id),
      },
      polling.retryAfterMs,
      this.log,
    );
    this.task = new PeriodicSweep('refund queries', polling.refundsEveryMs, (now) => due.pass(now), this.log);
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
}
