import type { ProductStatus } from '../product.entity.js';

/** The field rules of a product, shared by the DTOs, the service's own check and the OpenAPI schema. */
export const PRODUCT_STATUSES: readonly ProductStatus[] = ['on_sale', 'off_shelf'];

export const PRODUCT_LIMITS = {
  titleMax: 128,
  descriptionMax: 2000,
  priceMin: 1,
  // A total of 20 lines × 99 units at this price still fits WeChat Pay's 32-bit amount.total.
  priceMax: 1_000_000,
  stockMax: 1_000_000,
  imageUrlsMax: 9,
  imageUrlMax: 1024,
} as const;

/**
 * An image URL: `http://` or `https://`, a host name (letters, digits, dots, hyphens), an optional
 * port, then an optional path, query or fragment without spaces or control characters. One
 * expression for the DTOs, the service's check and the OpenAPI schema, so that what the document
 * promises and what the service accepts cannot drift apart.
 */
export const IMAGE_URL_PATTERN =
  '^https?://[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*' +
  '(?::[0-9]{1,5})?(?:[/?#][^\\s\\x00-\\x1f\\x7f]*)?$';
export const IMAGE_URL = new RegExp(IMAGE_URL_PATTERN);

/** The OpenAPI schema of `imageUrls`. */
export const IMAGE_URLS_SCHEMA = {
  type: 'array',
  maxItems: PRODUCT_LIMITS.imageUrlsMax,
  items: { type: 'string', minLength: 1, maxLength: PRODUCT_LIMITS.imageUrlMax, pattern: IMAGE_URL_PATTERN },
} as const;
