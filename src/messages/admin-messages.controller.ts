import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Roles, type AuthUser } from '../common/auth/decorators.js';
import { ApiEnvelope } from '../common/envelope/api-envelope.decorator.js';
import { ErrorCode } from '../common/errors/error-code.js';
import { ReqMeta, type RequestMeta } from '../common/http/request-meta.js';
import { SubscribeMessageDto } from './dto/subscribe-message.dto.js';
import { MessageIdPipe } from './message-id.pipe.js';
import { MessageView, toMessageView } from './message-view.js';
import { SubscribeMessages } from './subscribe-messages.service.js';

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller('admin/messages')
export class AdminMessagesController {
  constructor(private readonly messages: SubscribeMessages) {}

  @Post('subscribe')
  @HttpCode(202)
  @ApiEnvelope(
    MessageView,
    [
      ErrorCode.IDEMPOTENCY_KEY_REUSED,
      ErrorCode.NOT_FOUND,
      ErrorCode.NO_IDENTITY_IN_APP,
      ErrorCode.SUBSCRIBE_QUOTA_EXHAUSTED,
      ErrorCode.CONFLICT,
    ],
    // Accepted: queued, sent by the worker afterwards.
    { status: 202 },
  )
  async subscribe(
    @CurrentUser() auth: AuthUser,
    @Body() body: SubscribeMessageDto,
    @ReqMeta() meta: RequestMeta,
  ): Promise<MessageView> {
    const message = await this.messages.send(
      auth.userId,
      {
        userId: body.userId,
        templateId: body.templateId,
        data: body.data,
        page: body.page,
        miniprogramState: body.miniprogramState,
        lang: body.lang,
        idempotencyKey: body.idempotencyKey,
      },
      meta,
    );
    return toMessageView(message);
  }

  @Get(':id')
  @ApiEnvelope(MessageView, [ErrorCode.NOT_FOUND])
  async get(@Param('id', MessageIdPipe) id: string): Promise<MessageView> {
    return toMessageView(await this.messages.get(id));
  }
}
