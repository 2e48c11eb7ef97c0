import { applyDecorators, Body, Controller, Get, HttpCode, Param, Post, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiExtraModels, ApiResponse, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { CurrentUser, Roles, type AuthUser } from '../common/auth/decorators.js';
import { ApiEnvelope, envelopeOf, HANDLER_ERRORS_KEY } from '../common/envelope/api-envelope.decorator.js';
import { ErrorCode } from '../common/errors/error-code.js';
import { ReqMeta, type RequestMeta } from '../common/http/request-meta.js';
import { SubscribeMessageDto } from './dto/subscribe-message.dto.js';
import { MessageIdPipe } from './message-id.pipe.js';
import { MessageView, toMessageView } from './message-view.js';
import { SubscribeMessages } from './subscribe-messages.service.js';

/** The answer documented as 202 Accepted (queued, not yet sent), with the handler's own codes. */
const ApiAccepted = (errors: ErrorCode[]) =>
  applyDecorators(
    ApiExtraModels(MessageView),
    ApiResponse({ status: 202, schema: envelopeOf({ $ref: getSchemaPath(MessageView) }) }),
    SetMetadata(HANDLER_ERRORS_KEY, errors),
  );

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller('admin/messages')
export class AdminMessagesController {
  constructor(private readonly messages: SubscribeMessages) {}

  @Post('subscribe')
  @HttpCode(202)
  @ApiAccepted([
    ErrorCode.IDEMPOTENCY_KEY_REUSED,
    ErrorCode.NOT_FOUND,
    ErrorCode.NO_IDENTITY_IN_APP,
    ErrorCode.SUBSCRIBE_QUOTA_EXHAUSTED,
    ErrorCode.CONFLICT,
  ])
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
