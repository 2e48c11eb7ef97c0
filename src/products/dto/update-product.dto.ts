import { ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsString,
  Matches,
  Length,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { Optional } from '../../common/validation/presence.js';
import type { ProductStatus } from '../product.entity.js';
import { IMAGE_URL, IMAGE_URLS_SCHEMA, PRODUCT_LIMITS as L, PRODUCT_STATUSES } from './product-fields.js';

/** The fields of a new product, each optional; one left out keeps its value. */
export class UpdateProductDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: L.titleMax })
  @Optional()
  @IsString()
  @Length(1, L.titleMax)
  title?: string;

  @ApiPropertyOptional({ maxLength: L.descriptionMax })
  @Optional()
  @IsString()
  @MaxLength(L.descriptionMax)
  description?: string;

  @ApiPropertyOptional({ type: 'integer', minimum: L.priceMin, maximum: L.priceMax, description: 'fen' })
  @Optional()
  @IsInt()
  @Min(L.priceMin)
  @Max(L.priceMax)
  price?: number;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    maximum: L.stockMax,
    description: 'the units available to new orders from now on (units in open orders are not counted)',
  })
  @Optional()
  @IsInt()
  @Min(0)
  @Max(L.stockMax)
  stock?: number;

  @ApiPropertyOptional({ enum: PRODUCT_STATUSES })
  @Optional()
  @IsIn(PRODUCT_STATUSES)
  status?: ProductStatus;

  @ApiPropertyOptional({
    ...IMAGE_URLS_SCHEMA,
    description: `http(s) URLs of at most ${L.imageUrlMax} characters; replaces the list`,
  })
  @Optional()
  @IsArray()
  @ArrayMaxSize(L.imageUrlsMax)
  @IsString({ each: true })
  @MaxLength(L.imageUrlMax, { each: true })
  @Matches(IMAGE_URL, { each: true, message: 'each value in imageUrls must be an http(s) URL' })
  imageUrls?: string[];
}
