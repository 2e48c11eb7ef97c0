import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
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

export class CreateProductDto {
  @ApiProperty({ minLength: 1, maxLength: L.titleMax, example: '云南小粒咖啡豆 500g' })
  @IsString()
  @Length(1, L.titleMax)
  title!: string;

  @ApiPropertyOptional({ maxLength: L.descriptionMax, default: '' })
  @Optional()
  @IsString()
  @MaxLength(L.descriptionMax)
  description?: string;

  @ApiProperty({
    type: 'integer',
    minimum: L.priceMin,
    maximum: L.priceMax,
    description: 'fen',
    example: 6800,
  })
  @IsInt()
  @Min(L.priceMin)
  @Max(L.priceMax)
  price!: number;

  @ApiProperty({ type: 'integer', minimum: 0, maximum: L.stockMax, example: 50 })
  @IsInt()
  @Min(0)
  @Max(L.stockMax)
  stock!: number;

  @ApiPropertyOptional({ enum: PRODUCT_STATUSES, default: 'on_sale' })
  @Optional()
  @IsIn(PRODUCT_STATUSES)
  status?: ProductStatus;

  @ApiPropertyOptional({
    ...IMAGE_URLS_SCHEMA,
    default: [],
    description: `http(s) URLs of at most ${L.imageUrlMax} characters`,
  })
  @Optional()
  @IsArray()
  @ArrayMaxSize(L.imageUrlsMax)
  @IsString({ each: true })
  @MaxLength(L.imageUrlMax, { each: true })
  @Matches(IMAGE_URL, { each: true, message: 'each value in imageUrls must be an http(s) URL' })
  imageUrls?: string[];
}
