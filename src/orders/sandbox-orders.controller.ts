import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentUser, type AuthUser } from '../common/auth/decorators.js';
import { ApiEnvelope } from '../common/envelope/api-envelope.decorator.js';
import { ErrorCode } from '../common/errors/error-code.js';
import { NoBodyDto } from './dto/order-action.dto.js';
import { OrderIdPipe } from './order-id.pipe.js';
import { OrderQueries } from './order-queries.service.js';
import { OrderView } from './order-view.js';
import { SandboxPayments } from './sandbox-payments.service.js';

/**
 * Registered only with WECHAT_PAY_MODE=sandbox (OrdersModule.register): the stand-in pays the
 * order and its signed, encrypted TRANSACTION.SUCCESS goes through the very code that handles
 * WeChat Pay's own notifications.
 */
@ApiTags('sandbox')
@ApiBearerAuth()
@Controller('sandbox/orders')
export class SandboxOrdersController {
  constructor(
    private readonly queries: OrderQueries,
    private readonly sandbox: SandboxPayments,
  ) {}

  @Post(':id/pay')
  @HttpCode(200)
  @ApiEnvelope(OrderView, [ErrorCode.NOT_FOUND, ErrorCode.ORDER_STATE_CONFLICT])
  async pay(
    @CurrentUser() auth: AuthUser,
    @Param('id', OrderIdPipe) id: string,
    @Body() _body: NoBodyDto,
  ): Promise<OrderView> {
    await this.sandbox.pay(auth.userId, id);
    return this.queries.viewById(id);
  }
}
