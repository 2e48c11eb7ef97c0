import { Column, Entity, PrimaryColumn } from 'typeorm';
import { UUID_COLUMN } from '../database/columns.js';

/** A line of an order: title and price copied when the order was made. */
@Entity('order_items')
export class OrderItemEntity {
  @PrimaryColumn({ name: 'order_id', ...UUID_COLUMN })
  orderId!: string;

  /** 0-based, in the order of the request's items. */
  @PrimaryColumn({ type: 'int' })
  position!: number;

  @Column({ name: 'product_id', ...UUID_COLUMN })
  productId!: string;

  @Column({ type: 'varchar', length: 128 })
  title!: string;

  @Column({ name: 'unit_price', type: 'int' })
  unitPrice!: number;

  @Column({ type: 'int' })
  quantity!: number;

  /** unitPrice × quantity, fen. */
  @Column({ type: 'int' })
  amount!: number;
}
