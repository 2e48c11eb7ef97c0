import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsString, Length, Max, Min } from 'class-validator';
import { Optional } from '../../common/validation/presence.js';

/** An order's total fits WeChat Pay's 32-bit amount, so no refund can be larger. */
const AMOUNT_MAX = 2_147_483_647;

export class RefundOrderDto {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: AMOUNT_MAX,
    description: 'fen; all that remains refundable when absent',
  })
  @Optional()
  @IsInt()
  @Min(1)
  @Max(AMOUNT_MAX)
  amount?: number;

  @ApiProperty({ minLength: 1, maxLength: 80, description: 'shown to the buyer by WeChat Pay' })
  @IsString()
  @Length(1, 80)
  reason!: string;
}
