import { randomUUID } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { AppError } from '../common/errors/app-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import { PeriodicSweep } from '../jobs/periodic-sweep.js';
import { LeasedSweep } from './leased-sweep.js';
import { OrderSettlement } from './order-settlement.service.js';
import type { OrderEntity } from './order.entity.js';
import { ORDER_POLLING, type OrderPolling } from './order-polling.js';
import { OrderRepository } from './order.repository.js';

/**
 * Expiry, on every instance: each pass reads the `pending_payment` orders past expiresAt from the
 * database, takes a lease on each (a conditional UPDATE: one instance at a time per order) and
 * settles it through OrderSettlement (never prepaid: cancelled at once; else close then query, so
 * an order paid at the last moment becomes paid). One WeChat Pay could not settle waits
 * `retryAfterMs` for its next attempt; one whose instance died is free again when the lease ends.
 * Started with the application (not in unit tests, which call tick()), stopped at shutdown.
 */
@Injectable()
export class OrderExpiryPoller
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly log = new Logger('OrderExpiry');
  /** This instance, as the lease names it. */
  private readonly owner = randomUUID();
  private readonly task: PeriodicSweep;

  constructor(
    private readonly orders: OrderRepository,
    private readonly settlement: OrderSettlement,
    @Inject(ORDER_POLLING) polling: OrderPolling,
  ) {
    const overdue = new LeasedSweep<OrderEntity>(
      {
        noun: 'order',
        unsettled: 'not settled yet',
        findDue: (now, limit) => this.orders.findOverdue(now, limit),
        claim: (order, now) =>
          this.orders.claimSettlement(order.id, this.owner, now, new Date(now.getTime() + polling.leaseMs)),
        settle: (order) => this.settle(order),
        release: (order, nextAttemptAt) => this.orders.releaseSettlement(order.id, this.owner, nextAttemptAt),
      },
      polling.retryAfterMs,
      this.log,
    );
    this.task = new PeriodicSweep('expiry', polling.expiryEveryMs, (now) => overdue.pass(now), this.log);
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

  /** One pass as of `now`, after any under way; resolves when every order it took is settled or put back. */
  tick(now?: Date): Promise<void> {
    return this.task.run(now);
  }

  private async settle(order: OrderEntity): Promise<void> {
    try {
      await this.settlement.settle(order, 'expire');
    } catch (error) {
      if (!(error instanceof AppError && error.code === ErrorCode.ORDER_STATE_CONFLICT)) throw error;
      // The owner, a notification or another instance settled it meanwhile: nothing to try again.
      this.log.debug(`order ${order.id} was settled meanwhile`);
    }
  }
}
