import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AppError } from '../common/errors/app-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import type { Page } from '../common/validation/page.query.js';
import type { CreateProductDto } from './dto/create-product.dto.js';
import type { AdminListProductsQuery, ListProductsQuery } from './dto/list-products.query.js';
import { IMAGE_URL, PRODUCT_LIMITS as L, PRODUCT_STATUSES } from './dto/product-fields.js';
import type { UpdateProductDto } from './dto/update-product.dto.js';
import type { ProductEntity, ProductStatus } from './product.entity.js';
import { ProductRepository } from './product.repository.js';
import { imageUrlsOf } from './product-view.js';

/** What a product is made of, as the rules see it (the entity keeps the URLs as JSON text). */
export interface ProductFields {
  title: string;
  description: string;
  price: number;
  stock: number;
  status: ProductStatus;
  imageUrls: string[];
}

const isIntIn = (value: unknown, min: number, max: number): boolean =>
  Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max;

/** Characters as the database counts them (code points), not UTF-16 units. */
const length = (text: string): number => [...text].length;

/**
 * Every rule a stored product keeps, whoever asks for the change: the request DTOs refuse bad input
 * first, but the stock and the price are what orders and payments trust, so the service checks the
 * result itself.
 */
export function productRuleErrors(p: ProductFields): Array<{ field: string; message: string }> {
  const errors: Array<{ field: string; message: string }> = [];
  const fail = (field: string, message: string) => errors.push({ field, message });
  if (typeof p.title !== 'string' || length(p.title) < 1 || length(p.title) > L.titleMax)
    fail('title', `title must be 1 to ${L.titleMax} characters`);
  if (typeof p.description !== 'string' || length(p.description) > L.descriptionMax)
    fail('description', `description must be at most ${L.descriptionMax} characters`);
  if (!isIntIn(p.price, L.priceMin, L.priceMax))
    fail('price', `price must be an integer from ${L.priceMin} to ${L.priceMax} (fen)`);
  if (!isIntIn(p.stock, 0, L.stockMax)) fail('stock', `stock must be an integer from 0 to ${L.stockMax}`);
  if (!PRODUCT_STATUSES.includes(p.status))
    fail('status', `status must be one of ${PRODUCT_STATUSES.join(', ')}`);
  if (!Array.isArray(p.imageUrls) || p.imageUrls.length > L.imageUrlsMax) {
    fail('imageUrls', `imageUrls must hold at most ${L.imageUrlsMax} URLs`);
  } else {
    p.imageUrls.forEach((url, i) => {
      if (typeof url !== 'string' || url.length > L.imageUrlMax || !IMAGE_URL.test(url))
        fail(`imageUrls.${i}`, `each image URL must be http(s), at most ${L.imageUrlMax} characters`);
    });
  }
  return errors;
}

function assertValid(fields: ProductFields): void {
  const errors = productRuleErrors(fields);
  if (errors.length > 0)
    throw new AppError(ErrorCode.VALIDATION_FAILED, 'validation failed', { data: { errors } });
}

const fieldsOf = (product: ProductEntity): ProductFields => ({
  title: product.title,
  description: product.description,
  price: product.price,
  stock: product.stock,
  status: product.status,
  imageUrls: imageUrlsOf(product),
});

const notFound = () => new AppError(ErrorCode.NOT_FOUND, 'no such product');

/** The catalogue: what admins may change, and what the public sees (on-sale products only). */
@Injectable()
export class ProductsService {
  constructor(private readonly products: ProductRepository) {}

  async create(input: CreateProductDto): Promise<ProductEntity> {
    const fields: ProductFields = {
      title: input.title,
      description: input.description ?? '',
      price: input.price,
      stock: input.stock,
      status: input.status ?? 'on_sale',
      imageUrls: input.imageUrls ?? [],
    };
    assertValid(fields);
    const now = new Date();
    const product: ProductEntity = {
      id: randomUUID(),
      ...fields,
      imageUrls: JSON.stringify(fields.imageUrls),
      createdAt: now,
      updatedAt: now,
    };
    await this.products.insert(product);
    return product;
  }

  /** Fields left out keep their value; `stock` sets the units available from now on. */
  async update(id: string, changes: UpdateProductDto): Promise<ProductEntity> {
    const current = await this.get(id);
    const before = fieldsOf(current);
    const after: ProductFields = { ...before };
    for (const key of Object.keys(before) as Array<keyof ProductFields>) {
      if (changes[key] !== undefined) (after as unknown as Record<string, unknown>)[key] = changes[key];
    }
    assertValid(after);
    const patch: Partial<ProductEntity> = {};
    if (after.title !== before.title) patch.title = after.title;
    if (after.description !== before.description) patch.description = after.description;
    if (after.price !== before.price) patch.price = after.price;
    if (after.stock !== before.stock) patch.stock = after.stock;
    if (after.status !== before.status) patch.status = after.status;
    const urls = JSON.stringify(after.imageUrls);
    if (urls !== current.imageUrls) patch.imageUrls = urls;
    if (Object.keys(patch).length === 0) return current;
    patch.updatedAt = new Date();
    const updated = await this.products.update(id, patch);
    if (!updated) throw notFound();
    return updated;
  }

  /** Any status: what an admin sees. */
  async get(id: string): Promise<ProductEntity> {
    const product = await this.products.findById(id);
    if (!product) throw notFound();
    return product;
  }

  /** An off-shelf product does not exist for the public: 404 like an unknown one. */
  async getOnSale(id: string): Promise<ProductEntity> {
    const product = await this.products.findById(id);
    if (!product || product.status !== 'on_sale') throw notFound();
    return product;
  }

  listOnSale(query: ListProductsQuery): Promise<Page<ProductEntity>> {
    return this.page({ ...query, status: 'on_sale' });
  }

  list(query: AdminListProductsQuery): Promise<Page<ProductEntity>> {
    return this.page(query);
  }

  private async page(query: AdminListProductsQuery): Promise<Page<ProductEntity>> {
    const { page, pageSize, status, q } = query;
    const { items, total } = await this.products.list({ page, pageSize, status, q: q || undefined });
    return { items, total, page, pageSize };
  }
}
