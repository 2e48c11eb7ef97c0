import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Roles, type AuthUser } from '../common/auth/decorators.js';
import { ApiEnvelope } from '../common/envelope/api-envelope.decorator.js';
import { ErrorCode } from '../common/errors/error-code.js';
import { ReqMeta, type RequestMeta } from '../common/http/request-meta.js';
import type { Page } from '../common/validation/page.query.js';
import { AdminListOrdersQuery } from './dto/list-orders.query.js';
import { ShipOrderDto } from './dto/order-action.dto.js';
import { RefundOrderDto } from './dto/refund-order.dto.js';
import { OrderActions } from './order-actions.service.js';
import { OrderIdPipe } from './order-id.pipe.js';
import { OrderQueries } from './order-queries.service.js';
import { OrderRefunds } from './order-refunds.service.js';
import { AdminOrderView, OrderPageView, OrderView } from './order-view.js';

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller('admin/orders')
export class AdminOrdersController {
  constructor(
    private readonly queries: OrderQueries,
    private readonly actions: OrderActions,
    private readonly refunds: OrderRefunds,
  ) {}

  @Get()
  @ApiEnvelope(OrderPageView)
  list(@Query() query: AdminListOrdersQuery): Promise<Page<OrderView>> {
    return this.queries.listAll(query);
  }

  @Get(':id')
  @ApiEnvelope(AdminOrderView, [ErrorCode.NOT_FOUND])
  get(@Param('id', OrderIdPipe) id: string): Promise<AdminOrderView> {
    return this.queries.adminView(id);
  }

  @Post(':id/ship')
  @HttpCode(200)
  @ApiEnvelope(OrderView, [ErrorCode.NOT_FOUND, ErrorCode.ORDER_STATE_CONFLICT])
  async ship(
    @CurrentUser() auth: AuthUser,
    @Param('id', OrderIdPipe) id: string,
    @Body() body: ShipOrderDto,
    @ReqMeta() meta: RequestMeta,
  ): Promise<OrderView> {
    return this.queries.view(await this.actions.ship(auth.userId, id, body.trackingNo, meta));
  }

  @Post(':id/refund')
  @HttpCode(200)
  @ApiEnvelope(OrderView, [
    ErrorCode.NOT_FOUND,
    ErrorCode.ORDER_STATE_CONFLICT,
    ErrorCode.REFUND_EXCEEDS_REFUNDABLE,
    ErrorCode.WECHAT_PAY_ERROR,
    ErrorCode.WECHAT_PAY_UNVERIFIED,
    ErrorCode.WECHAT_PAY_OFF,
    ErrorCode.WECHAT_TIMEOUT,
  ])
  async refund(
    @CurrentUser() auth: AuthUser,
    @Param('id', OrderIdPipe) id: string,
    @Body() body: RefundOrderDto,
    @ReqMeta() meta: RequestMeta,
  ): Promise<OrderView> {
    const order = await this.refunds.request(
      auth.userId,
      id,
      { amount: body.amount, reason: body.reason },
      meta,
    );
    return this.queries.view(order);
  }
}
