import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsString, MaxLength } from 'class-validator';
import { PageQuery } from '../../common/validation/page.query.js';
import { Optional } from '../../common/validation/presence.js';
import type { ProductStatus } from '../product.entity.js';
import { PRODUCT_LIMITS, PRODUCT_STATUSES } from './product-fields.js';

export class ListProductsQuery extends PageQuery {
  @ApiPropertyOptional({
    maxLength: PRODUCT_LIMITS.titleMax,
    description: 'part of the title, case-insensitive',
  })
  @Optional()
  @IsString()
  @MaxLength(PRODUCT_LIMITS.titleMax)
  q?: string;
}

export class AdminListProductsQuery extends ListProductsQuery {
  @ApiPropertyOptional({ enum: PRODUCT_STATUSES, description: 'without it, both' })
  @Optional()
  @IsIn(PRODUCT_STATUSES)
  status?: ProductStatus;
}
