import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { AuditEventEntity } from '../audit/audit-event.entity.js';
import type { OrderItemEntity } from './order-item.entity.js';
import { ORDER_STATUSES, type OrderStatus } from './order-state.js';
import type { CancelReason, OrderEntity } from './order.entity.js';
import type { RefundEntity, RefundStatus } from './refund.entity.js';

/** An order with what its view shows besides its own row. */
export interface OrderRecord {
  order: OrderEntity;
  items: OrderItemEntity[];
  /** Oldest first. */
  refunds: RefundEntity[];
}

/** The fields kept of a `wx.chooseAddress` answer. */
export interface ShippingAddress {
  userName: string;
  telNumber: string;
  provinceName: string;
  cityName: string;
  countyName: string;
  detailInfo: string;
  postalCode?: string;
  nationalCode?: string;
}

export class ShippingAddressView implements ShippingAddress {
  @ApiProperty() userName!: string;
  @ApiProperty() telNumber!: string;
  @ApiProperty() provinceName!: string;
  @ApiProperty() cityName!: string;
  @ApiProperty() countyName!: string;
  @ApiProperty() detailInfo!: string;
  @ApiPropertyOptional() postalCode?: string;
  @ApiPropertyOptional() nationalCode?: string;
}

export class OrderItemView {
  @ApiProperty() productId!: string;
  @ApiProperty() title!: string;
  @ApiProperty({ description: 'fen' }) unitPrice!: number;
  @ApiProperty() quantity!: number;
  @ApiProperty({ description: 'unitPrice × quantity, fen' }) amount!: number;
}

export const REFUND_STATUSES: readonly RefundStatus[] = [
  'processing',
  'succeeded',
  'closed',
  'abnormal',
  'failed',
];

export class RefundView {
  @ApiProperty() id!: string;
  @ApiProperty({ example: '20261201153000123456789012345678' }) outRefundNo!: string;
  @ApiProperty({ description: 'fen' }) amount!: number;
  @ApiProperty() reason!: string;
  @ApiProperty({ enum: REFUND_STATUSES }) status!: RefundStatus;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) completedAt!: string | null;
}

export class OrderView {
  @ApiProperty() id!: string;
  @ApiProperty({ example: '20261201153000123456789012345678', description: '32 digits' })
  outTradeNo!: string;
  @ApiProperty() userId!: string;
  @ApiProperty({ enum: ORDER_STATUSES }) status!: OrderStatus;
  @ApiProperty({ type: [OrderItemView] }) items!: OrderItemView[];
  @ApiProperty({ description: 'fen' }) totalAmount!: number;
  @ApiProperty({ description: 'fen' }) refundedAmount!: number;
  @ApiProperty({ enum: ['CNY'] }) currency!: 'CNY';
  @ApiProperty({ type: ShippingAddressView, nullable: true }) shippingAddress!: ShippingAddressView | null;
  @ApiProperty({ type: String, nullable: true }) transactionId!: string | null;
  @ApiProperty({ type: String, nullable: true }) trackingNo!: string | null;
  @ApiProperty({ enum: ['user', 'expired'], nullable: true }) cancelReason!: CancelReason | null;
  @ApiProperty({ type: [RefundView], description: 'oldest first' }) refunds!: RefundView[];
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) expiresAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) paidAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) shippedAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) completedAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) cancelledAt!: string | null;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export class OrderEventView {
  @ApiProperty({ example: 'order_paid' }) type!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ type: String, nullable: true }) detail!: string | null;
}

export class AdminOrderView extends OrderView {
  @ApiProperty({ type: [OrderEventView], description: 'oldest first' }) events!: OrderEventView[];
}

export class OrderPageView {
  @ApiProperty({ type: [OrderView] }) items!: OrderView[];
  @ApiProperty() total!: number;
  @ApiProperty() page!: number;
  @ApiProperty() pageSize!: number;
}

export class PayParamsView {
  @ApiProperty({ description: 'Unix seconds' }) timeStamp!: string;
  @ApiProperty() nonceStr!: string;
  @ApiProperty({ example: 'prepay_id=wx201410272009395522657a690389285100' }) package!: string;
  @ApiProperty({ enum: ['RSA'] }) signType!: 'RSA';
  @ApiProperty() paySign!: string;
}

const iso = (at: Date | null): string | null => (at ? at.toISOString() : null);

/**
 * The public shape of an order (docs/api.md `Order`); nothing else decides what leaves the service.
 * `shippingAddress` is the decrypted address, which only the owner and admins ever get.
 */
export function toOrderView(
  { order, items, refunds }: OrderRecord,
  shippingAddress: ShippingAddress | null,
): OrderView {
  return {
    id: order.id,
    outTradeNo: order.outTradeNo,
    userId: order.userId,
    status: order.status,
    items: items.map((i) => ({
      productId: i.productId,
      title: i.title,
      unitPrice: i.unitPrice,
      quantity: i.quantity,
      amount: i.amount,
    })),
    totalAmount: order.totalAmount,
    refundedAmount: order.refundedAmount,
    currency: 'CNY',
    shippingAddress,
    transactionId: order.transactionId,
    trackingNo: order.trackingNo,
    cancelReason: order.cancelReason,
    refunds: refunds.map((r) => ({
      id: r.id,
      outRefundNo: r.outRefundNo,
      amount: r.amount,
      reason: r.reason,
      status: r.status,
      createdAt: r.createdAt.toISOString(),
      completedAt: iso(r.completedAt),
    })),
    createdAt: order.createdAt.toISOString(),
    expiresAt: order.expiresAt.toISOString(),
    paidAt: iso(order.paidAt),
    shippedAt: iso(order.shippedAt),
    completedAt: iso(order.completedAt),
    cancelledAt: iso(order.cancelledAt),
    updatedAt: order.updatedAt.toISOString(),
  };
}

/** Where an event sits in an order's life: the tie-break for entries of the same millisecond. */
const LIFECYCLE = [
  'order_created',
  'order_paid',
  'order_cancelled',
  'order_expired',
  'order_shipped',
  'order_completed',
  'refund_requested',
  'refund_succeeded',
  'refund_failed',
];

export function toOrderEvents(entries: AuditEventEntity[]): OrderEventView[] {
  const rank = (event: string) => {
    const i = LIFECYCLE.indexOf(event);
    return i < 0 ? LIFECYCLE.length : i;
  };
  return [...entries]
    .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || rank(a.event) - rank(b.event))
    .map((e) => ({ type: e.event, createdAt: e.createdAt.toISOString(), detail: e.detail }));
}
