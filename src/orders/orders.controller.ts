import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentUser, type AuthUser } from '../common/auth/decorators.js';
import { ApiEnvelope } from '../common/envelope/api-envelope.decorator.js';
import { ErrorCode } from '../common/errors/error-code.js';
import { ReqMeta, type RequestMeta } from '../common/http/request-meta.js';
import type { Page } from '../common/validation/page.query.js';
import type { PayParams } from '../payments/wechat-pay-client.port.js';
import { CreateOrderDto } from './dto/create-order.dto.js';
import { ListOrdersQuery } from './dto/list-orders.query.js';
import { NoBodyDto } from './dto/order-action.dto.js';
import { ApiIdempotencyKey, IdempotencyKey } from './idempotency-key.js';
import { OrderActions } from './order-actions.service.js';
import { OrderIdPipe } from './order-id.pipe.js';
import { OrderPayments } from './order-payments.service.js';
import { OrderPlacement } from './order-placement.service.js';
import { OrderQueries } from './order-queries.service.js';
import { OrderPageView, OrderView, PayParamsView } from './order-view.js';

/** WeChat Pay's failures, as every call to it can end. */
const PAY_ERRORS = [
  ErrorCode.WECHAT_PAY_ERROR,
  ErrorCode.WECHAT_PAY_UNVERIFIED,
  ErrorCode.WECHAT_PAY_OFF,
  ErrorCode.WECHAT_TIMEOUT,
];

@ApiTags('orders')
@ApiBearerAuth()
@Controller('orders')
export class OrdersController {
  constructor(
    private readonly placement: OrderPlacement,
    private readonly queries: OrderQueries,
    private readonly payments: OrderPayments,
    private readonly actions: OrderActions,
  ) {}

  @Post()
  @HttpCode(200)
  @ApiIdempotencyKey()
  @ApiEnvelope(OrderView, [
    ErrorCode.IDEMPOTENCY_KEY_REUSED,
    ErrorCode.OUT_OF_STOCK,
    ErrorCode.PRODUCT_UNAVAILABLE,
    ErrorCode.CONFLICT,
  ])
  async create(
    @CurrentUser() auth: AuthUser,
    @IdempotencyKey() key: string,
    @Body() body: CreateOrderDto,
    @ReqMeta() meta: RequestMeta,
  ): Promise<OrderView> {
    const items = body.items.map((line) => ({ productId: line.productId, quantity: line.quantity }));
    const order = await this.placement.place(
      auth.userId,
      key,
      { items, shippingAddress: body.shippingAddress ?? null },
      meta,
    );
    return this.queries.view(order);
  }

  @Get()
  @ApiEnvelope(OrderPageView)
  list(@CurrentUser() auth: AuthUser, @Query() query: ListOrdersQuery): Promise<Page<OrderView>> {
    return this.queries.listOwn(auth.userId, query);
  }

  @Get(':id')
  @ApiEnvelope(OrderView, [ErrorCode.NOT_FOUND])
  async get(@CurrentUser() auth: AuthUser, @Param('id', OrderIdPipe) id: string): Promise<OrderView> {
    return this.queries.view(await this.queries.visible(auth, id));
  }

  @Post(':id/pay')
  @HttpCode(200)
  @ApiEnvelope(PayParamsView, [ErrorCode.NOT_FOUND, ErrorCode.ORDER_STATE_CONFLICT, ...PAY_ERRORS])
  pay(
    @CurrentUser() auth: AuthUser,
    @Param('id', OrderIdPipe) id: string,
    @Body() _body: NoBodyDto,
  ): Promise<PayParams> {
    return this.payments.payParams(auth.userId, id);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiEnvelope(OrderView, [ErrorCode.NOT_FOUND, ErrorCode.ORDER_STATE_CONFLICT, ...PAY_ERRORS])
  async cancel(
    @CurrentUser() auth: AuthUser,
    @Param('id', OrderIdPipe) id: string,
    @Body() _body: NoBodyDto,
    @ReqMeta() meta: RequestMeta,
  ): Promise<OrderView> {
    return this.queries.view(await this.actions.cancel(auth.userId, id, meta));
  }

  @Post(':id/confirm')
  @HttpCode(200)
  @ApiEnvelope(OrderView, [ErrorCode.NOT_FOUND, ErrorCode.ORDER_STATE_CONFLICT])
  async confirm(
    @CurrentUser() auth: AuthUser,
    @Param('id', OrderIdPipe) id: string,
    @Body() _body: NoBodyDto,
    @ReqMeta() meta: RequestMeta,
  ): Promise<OrderView> {
    return this.queries.view(await this.actions.confirm(auth.userId, id, meta));
  }
}
