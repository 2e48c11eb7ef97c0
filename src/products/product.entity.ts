import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { timestamp, UUID_COLUMN } from '../database/columns.js';

export type ProductStatus = 'on_sale' | 'off_shelf';

@Entity('products')
@Index('ix_products_status_created', ['status', 'createdAt'])
export class ProductEntity {
  @PrimaryColumn(UUID_COLUMN)
  id!: string;

  @Column({ type: 'varchar', length: 128 })
  title!: string;

  @Column({ type: 'text' })
  description!: string;

  /** Integer fen. */
  @Column({ type: 'int' })
  price!: number;

  /** Units available to new orders; a reservation lowers it in the same statement that checks it. */
  @Column({ type: 'int' })
  stock!: number;

  @Column({ type: 'varchar', length: 16, default: 'on_sale' })
  status!: ProductStatus;

  /** JSON array of URLs, stored as text so both drivers keep it the same way. */
  @Column({ name: 'image_urls', type: 'text' })
  imageUrls!: string;

  @Column({ name: 'created_at', ...timestamp() })
  createdAt!: Date;

  @Column({ name: 'updated_at', ...timestamp() })
  updatedAt!: Date;
}
