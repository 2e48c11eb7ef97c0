import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  Allow,
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsInt,
  IsObject,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  ValidateBy,
  ValidateNested,
} from 'class-validator';
import { Nullable, Optional } from '../../common/validation/presence.js';

export const ORDER_LIMITS = { linesMax: 20, quantityMax: 99 } as const;

export class OrderLineDto {
  @ApiProperty({ example: '3b0f6c1e-2a4d-4e8f-9c1a-5d7e9f0a1b2c', minLength: 1, maxLength: 64 })
  @IsString()
  @Length(1, 64)
  productId!: string;

  @ApiProperty({ type: 'integer', minimum: 1, maximum: ORDER_LIMITS.quantityMax })
  @IsInt()
  @Min(1)
  @Max(ORDER_LIMITS.quantityMax)
  quantity!: number;
}

/** What `wx.chooseAddress` hands the mini-program (its `errMsg` is accepted and dropped). */
export class ShippingAddressDto {
  @ApiProperty({ minLength: 1, maxLength: 64 })
  @IsString()
  @Length(1, 64)
  userName!: string;

  @ApiProperty({ minLength: 5, maxLength: 32, description: 'digits, +, - and spaces' })
  @IsString()
  @Matches(/^[0-9+\- ]{5,32}$/, { message: 'telNumber must be 5-32 digits, +, - or spaces' })
  telNumber!: string;

  @ApiProperty({ minLength: 1, maxLength: 64 })
  @IsString()
  @Length(1, 64)
  provinceName!: string;

  @ApiProperty({ minLength: 1, maxLength: 64 })
  @IsString()
  @Length(1, 64)
  cityName!: string;

  @ApiProperty({ minLength: 1, maxLength: 64 })
  @IsString()
  @Length(1, 64)
  countyName!: string;

  @ApiProperty({ minLength: 1, maxLength: 256 })
  @IsString()
  @Length(1, 256)
  detailInfo!: string;

  @ApiPropertyOptional({ minLength: 1, maxLength: 64 })
  @Optional()
  @IsString()
  @Length(1, 64)
  postalCode?: string;

  @ApiPropertyOptional({ minLength: 1, maxLength: 64 })
  @Optional()
  @IsString()
  @Length(1, 64)
  nationalCode?: string;

  @ApiPropertyOptional({ description: "wx.chooseAddress's own status text; ignored" })
  @Allow()
  errMsg?: unknown;
}

const distinctProducts = ValidateBy({
  name: 'distinctProducts',
  validator: {
    validate: (items: unknown) =>
      !Array.isArray(items) ||
      new Set(items.map((item) => (item as { productId?: unknown } | null)?.productId)).size === items.length,
    defaultMessage: () => 'items must name each product at most once',
  },
});

export class CreateOrderDto {
  @ApiProperty({ type: [OrderLineDto], minItems: 1, maxItems: ORDER_LIMITS.linesMax })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(ORDER_LIMITS.linesMax)
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => OrderLineDto)
  @distinctProducts
  items!: OrderLineDto[];

  @ApiPropertyOptional({ type: ShippingAddressDto, nullable: true, description: 'null or absent: none' })
  @Nullable()
  @IsObject()
  @ValidateNested()
  @Type(() => ShippingAddressDto)
  shippingAddress?: ShippingAddressDto | null;
}
