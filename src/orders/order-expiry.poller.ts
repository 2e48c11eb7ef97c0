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
import { OrderSettlement } from './order-settlement.service.js';
import type { OrderEntity } from './order.entity.js';
import { OrderRepository } from './order.repository.js';
import { eachLimited, ORDER_POLLING, PeriodicTask, type OrderPolling } from './periodic-task.js';

/** Overdue orders taken per pass, and settled side by side (each may wait on WeChat Pay). */
const BATCH = 50;
const PARALLEL = 4;

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
  private readonly task: PeriodicTask;

  constructor(
    private readonly orders: OrderRepository,
    private readonly settlement: OrderSettlement,
    @Inject(ORDER_POLLING) private readonly polling: OrderPolling,
  ) {
    this.task = new PeriodicTask('expiry', polling.expiryEveryMs, (now) => this.pass(now), this.log);
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

  private async pass(now: Date): Promise<void> {
    const overdue = await this.orders.findOverdue(now, BATCH);
    await eachLimited(overdue, PARALLEL, (order) => this.settle(order, now));
  }

  private async settle(order: OrderEntity, now: Date): Promise<void> {
    const until = new Date(now.getTime() + this.polling.leaseMs);
    if (!(await this.orders.claimSettlement(order.id, this.owner, now, until))) return;
    let nextAttemptAt: Date | null = null;
    try {
      await this.settlement.settle(order, 'expire');
    } catch (error) {
      if (error instanceof AppError && error.code === ErrorCode.ORDER_STATE_CONFLICT) {
        // The owner, a notification or another instance settled it meanwhile.
        this.log.debug(`order ${order.id} was settled meanwhile`);
      } else {
        nextAttemptAt = new Date(now.getTime() + this.polling.retryAfterMs);
        this.log.warn(`order ${order.id} not settled yet: ${(error as Error)?.message ?? String(error)}`);
      }
    }
    await this.orders.releaseSettlement(order.id, this.owner, nextAttemptAt);
  }
}
