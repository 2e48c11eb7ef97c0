import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsString, Length } from 'class-validator';
import { PageQuery } from '../../common/validation/page.query.js';
import { Optional } from '../../common/validation/presence.js';
import { ORDER_STATUSES, type OrderStatus } from '../order-state.js';

export class ListOrdersQuery extends PageQuery {
  @ApiPropertyOptional({ enum: ORDER_STATUSES, description: 'without it, every status' })
  @Optional()
  @IsIn(ORDER_STATUSES)
  status?: OrderStatus;
}

export class AdminListOrdersQuery extends ListOrdersQuery {
  @ApiPropertyOptional({ maxLength: 64, description: 'the orders of this user (a user id)' })
  @Optional()
  @IsString()
  @Length(1, 64)
  userId?: string;

  @ApiPropertyOptional({ maxLength: 64, description: 'exactly this outTradeNo' })
  @Optional()
  @IsString()
  @Length(1, 64)
  outTradeNo?: string;
}
