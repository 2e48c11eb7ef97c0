import { ApiProperty } from '@nestjs/swagger';
import { PRODUCT_STATUSES } from './dto/product-fields.js';
import type { ProductEntity, ProductStatus } from './product.entity.js';

/** The public shape of a product (docs/api.md `Product`). Nothing else decides what leaves the service. */
export class ProductView {
  @ApiProperty({ example: '0b9e7c1a-5d3f-4e2a-9c1b-7f6e5d4c3b2a' }) id!: string;
  @ApiProperty({ minLength: 1, maxLength: 128 }) title!: string;
  @ApiProperty({ maxLength: 2000 }) description!: string;
  @ApiProperty({ type: 'integer', minimum: 1, maximum: 1_000_000, description: 'fen' }) price!: number;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'units available to new orders' })
  stock!: number;
  @ApiProperty({ enum: PRODUCT_STATUSES }) status!: ProductStatus;
  @ApiProperty({ type: [String], maxItems: 9, description: 'http(s) URLs, in the order given' })
  imageUrls!: string[];
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export function toProductView(product: ProductEntity): ProductView {
  return {
    id: product.id,
    title: product.title,
    description: product.description,
    price: product.price,
    stock: product.stock,
    status: product.status,
    imageUrls: imageUrlsOf(product),
    createdAt: product.createdAt.toISOString(),
    updatedAt: product.updatedAt.toISOString(),
  };
}

/** The stored JSON list; only the service writes it, always as an array of strings. */
export function imageUrlsOf(product: Pick<ProductEntity, 'imageUrls'>): string[] {
  const parsed: unknown = JSON.parse(product.imageUrls);
  return Array.isArray(parsed) ? parsed.filter((url): url is string => typeof url === 'string') : [];
}
