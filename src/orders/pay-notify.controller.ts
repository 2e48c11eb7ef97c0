import { applyDecorators, Controller, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../common/auth/decorators.js';
import { RawResponse } from '../common/envelope/envelope.js';
import { RawBody } from '../common/http/raw-body.js';
import { PayNotificationEndpoint } from './pay-notification-endpoint.js';

const FAIL = {
  type: 'object',
  required: ['code', 'message'],
  properties: { code: { type: 'string', enum: ['FAIL'] }, message: { type: 'string' } },
};

/** The OpenAPI description of a notification route: WeChat Pay's headers in, its answers out. */
function ApiNotification(events: string) {
  return applyDecorators(
    ApiOperation({
      summary: `WeChat Pay notification (${events}); answered outside the envelope`,
      description:
        'Signed by WeChat Pay over the exact body bytes; no token. 204 when applied, repeated or ' +
        'verified but not applicable; otherwise `{"code":"FAIL","message"}` and WeChat Pay sends it again.',
    }),
    ApiHeader({ name: 'Wechatpay-Timestamp', required: true }),
    ApiHeader({ name: 'Wechatpay-Nonce', required: true }),
    ApiHeader({ name: 'Wechatpay-Signature', required: true }),
    ApiHeader({ name: 'Wechatpay-Serial', required: true }),
    ApiHeader({ name: 'Wechatpay-Signature-Type', required: false }),
    ApiBody({ description: 'the notification exactly as WeChat Pay sends it', schema: { type: 'object' } }),
    ApiResponse({ status: 204, description: 'applied, a repeat, or verified and not applicable' }),
    ApiResponse({ status: 400, description: 'not JSON, or a resource that does not decrypt', schema: FAIL }),
    ApiResponse({
      status: 401,
      description: 'a header, the time, the serial or the signature',
      schema: FAIL,
    }),
    ApiResponse({ status: 413, description: 'body over 1 MiB', schema: FAIL }),
    ApiResponse({ status: 503, description: 'cannot be processed now, or WeChat Pay is off', schema: FAIL }),
  );
}

/** POST /pay/notify and /pay/refund-notify: WeChat Pay's calls, raw bytes in, its own answers out. */
@ApiTags('wechat-pay')
@Public()
@Controller('pay')
export class PayNotifyController {
  constructor(private readonly endpoint: PayNotificationEndpoint) {}

  @Post('notify')
  @RawBody()
  @RawResponse()
  @ApiNotification('TRANSACTION.SUCCESS')
  async notify(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    this.endpoint.send(reply, await this.endpoint.receive('transaction', request));
  }

  @Post('refund-notify')
  @RawBody()
  @RawResponse()
  @ApiNotification('REFUND.SUCCESS, REFUND.ABNORMAL, REFUND.CLOSED')
  async refundNotify(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    this.endpoint.send(reply, await this.endpoint.receive('refund', request));
  }
}
