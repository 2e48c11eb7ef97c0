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

/** http(s) only, host without a TLD allowed (development servers), as for avatar URLs. */
export const IMAGE_URL_OPTIONS = { protocols: ['http', 'https'], require_protocol: true, require_tld: false };
