import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '../common/errors/app-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import type { RequestMeta } from '../common/http/request-meta.js';
import { ordersConfig, type OrdersSlice } from '../config/config.slices.js';
import { UnitOfWork, type Transaction } from '../database/unit-of-work.js';
import { ProductRepository } from '../products/product.repository.js';
import { DataCipher } from '../security/data-cipher.js';
import type { OrderItemEntity } from './order-item.entity.js';
import { OrderTransitions } from './order-transitions.js';
import type { ShippingAddress } from './order-view.js';
import type { OrderEntity } from './order.entity.js';
import { OrderRepository } from './order.repository.js';
import { newMerchantNo } from './out-trade-no.js';
import { sealAddress } from './shipping-address.js';

export interface OrderLine {
  productId: string;
  quantity: number;
}

export interface NewOrderRequest {
  items: OrderLine[];
  shippingAddress?: ShippingAddress | null;
}

/** The items as parsed, in order: what makes two requests with one key "the same". */
export function itemsFingerprint(items: OrderLine[]): string {
  const canonical = JSON.stringify(items.map((line) => [line.productId, line.quantity]));
  return createHash('sha256').update(canonical).digest('hex');
}

/** Σ unitPrice × quantity, fen. */
export function totalOf(lines: Array<{ amount: number }>): number {
  return lines.reduce((sum, line) => sum + line.amount, 0);
}

/**
 * The insert met a unique index: a concurrent request with this key won (its order is the answer),
 * or, with odds of 1e-15 per millisecond, another order drew this outTradeNo (draw again). Thrown
 * so the transaction rolls this request's reservation back first.
 */
class Taken extends Error {}

const ATTEMPTS = 3;

/** POST /orders: the stock, the totals and the idempotency key, in one transaction. */
@Injectable()
export class OrderPlacement {
  constructor(
    private readonly orders: OrderRepository,
    private readonly products: ProductRepository,
    private readonly transitions: OrderTransitions,
    private readonly cipher: DataCipher,
    private readonly uow: UnitOfWork,
    @Inject(ordersConfig.KEY) private readonly config: OrdersSlice,
  ) {}

  /**
   * The order of this user and key: made now, or the one made before with the same items (nothing
   * reserved twice), or 409 / 40901 for other items. Concurrent requests with one key race on the
   * unique index; each loser rolls back and answers the winner's order. A request that fails
   * leaves nothing behind, so its key stays unused.
   */
  async place(
    userId: string,
    key: string,
    request: NewOrderRequest,
    meta?: RequestMeta,
  ): Promise<OrderEntity> {
    const fingerprint = itemsFingerprint(request.items);
    const earlier = await this.replay(userId, key, fingerprint);
    if (earlier) return earlier;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.uow.run((tx) => this.insert(userId, key, fingerprint, request, meta, tx));
      } catch (error) {
        // Losing to a concurrent request with this key shows as the key taken or, when it took the
        // last units first, as missing stock: either way its order is the answer.
        if (error instanceof Taken || isCode(error, ErrorCode.OUT_OF_STOCK)) {
          const winner = await this.replay(userId, key, fingerprint);
          if (winner) return winner;
        }
        if (!(error instanceof Taken)) throw error;
        if (attempt >= ATTEMPTS) {
          throw new AppError(ErrorCode.CONFLICT, 'the order could not be stored; try again', {
            cause: error,
          });
        }
      }
    }
  }

  private async replay(userId: string, key: string, fingerprint: string): Promise<OrderEntity | null> {
    const existing = await this.orders.findByIdempotencyKey(userId, key);
    if (!existing) return null;
    if (existing.itemsFingerprint !== fingerprint) {
      throw new AppError(ErrorCode.IDEMPOTENCY_KEY_REUSED, 'this Idempotency-Key was used with other items');
    }
    return existing;
  }

  private async insert(
    userId: string,
    key: string,
    fingerprint: string,
    request: NewOrderRequest,
    meta: RequestMeta | undefined,
    tx: Transaction,
  ): Promise<OrderEntity> {
    const ids = request.items.map((line) => line.productId);
    const found = new Map((await this.products.findByIds(ids, tx)).map((p) => [p.id, p]));
    const unavailable = ids.filter((id) => found.get(id)?.status !== 'on_sale');
    if (unavailable.length > 0) {
      throw new AppError(ErrorCode.PRODUCT_UNAVAILABLE, undefined, { data: { productIds: unavailable } });
    }
    const now = new Date();
    const id = randomUUID();
    const items: OrderItemEntity[] = request.items.map((line, position) => {
      const product = found.get(line.productId)!;
      return {
        orderId: id,
        position,
        productId: product.id,
        title: product.title,
        unitPrice: product.price,
        quantity: line.quantity,
        amount: product.price * line.quantity,
      };
    });
    const order: OrderEntity = {
      id,
      outTradeNo: newMerchantNo(now),
      userId,
      status: 'pending_payment',
      totalAmount: totalOf(items),
      refundedAmount: 0,
      currency: 'CNY',
      shippingAddressEncrypted: request.shippingAddress
        ? sealAddress(this.cipher, request.shippingAddress)
        : null,
      transactionId: null,
      trackingNo: null,
      cancelReason: null,
      prepayId: null,
      prepayCreatedAt: null,
      prepayRequestedAt: null,
      expiresAt: new Date(now.getTime() + this.config.paymentTtlSeconds * 1000),
      paidAt: null,
      shippedAt: null,
      completedAt: null,
      cancelledAt: null,
      statusBeforeRefunding: null,
      idempotencyKey: key,
      itemsFingerprint: fingerprint,
      settleLeaseOwner: null,
      settleLeaseUntil: null,
      settleNextAttemptAt: null,
      createdAt: now,
      updatedAt: now,
    };
    if ((await this.transitions.create(order, items, meta, tx)) === 'duplicate') throw new Taken();
    // The stock last: its conditional update locks the product's row until the commit, and every
    // order of a popular product queues on that row, so it is held for one statement and the commit
    // rather than for the inserts too (a shortfall rolls the inserts back all the same).
    const short = await this.products.reserve(request.items, tx);
    if (short.length > 0) {
      // In the request's order, whatever order the repository took the lines in.
      const productIds = ids.filter((id) => short.includes(id));
      throw new AppError(ErrorCode.OUT_OF_STOCK, undefined, { data: { productIds } });
    }
    return order;
  }
}

function isCode(error: unknown, code: ErrorCode): boolean {
  return error instanceof AppError && error.code === code;
}
