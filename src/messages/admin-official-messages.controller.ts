import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiProperty, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Roles, type AuthUser } from '../common/auth/decorators.js';
import { ApiEnvelope } from '../common/envelope/api-envelope.decorator.js';
import { ErrorCode } from '../common/errors/error-code.js';
import { ReqMeta, type RequestMeta } from '../common/http/request-meta.js';
import { CustomerServiceMessageDto, TemplateMessageDto } from './dto/official-messages.dto.js';
import { OfficialAccountRoute } from '../wechat/official-account-gate.js';
import { OfficialMessages } from './official-messages.service.js';

class TemplateSentView {
  @ApiProperty({ description: "WeChat's msgid, as a string", example: '200228332' })
  wechatMsgId!: string;
}

/** What any call to the official account may end with besides its own refusals. */
const WECHAT_FAILURES = [
  ErrorCode.WECHAT_CONTENT_REFUSED,
  ErrorCode.NOT_A_FOLLOWER,
  ErrorCode.RATE_LIMITED,
  ErrorCode.WECHAT_ERROR,
  ErrorCode.WECHAT_TIMEOUT,
];

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
// Without an official account these routes are not found (before authentication and the body).
@OfficialAccountRoute()
@Controller('admin/official')
export class AdminOfficialMessagesController {
  constructor(private readonly official: OfficialMessages) {}

  @Post('template-messages')
  @HttpCode(200)
  @ApiEnvelope(TemplateSentView, [ErrorCode.NOT_FOUND, ErrorCode.NO_IDENTITY_IN_APP, ...WECHAT_FAILURES])
  sendTemplate(
    @CurrentUser() auth: AuthUser,
    @Body() body: TemplateMessageDto,
    @ReqMeta() meta: RequestMeta,
  ): Promise<TemplateSentView> {
    const miniprogram = body.miniprogram && {
      pagepath: body.miniprogram.pagepath,
      appid: body.miniprogram.appid,
    };
    return this.official.sendTemplate(
      auth.userId,
      { userId: body.userId, templateId: body.templateId, data: body.data, url: body.url, miniprogram },
      meta,
    );
  }

  @Post('cs-messages')
  @HttpCode(200)
  @ApiEnvelope(null, [
    ErrorCode.NOT_FOUND,
    ErrorCode.NO_IDENTITY_IN_APP,
    ErrorCode.SERVICE_WINDOW_CLOSED,
    ...WECHAT_FAILURES,
  ])
  async sendCustomText(
    @CurrentUser() auth: AuthUser,
    @Body() body: CustomerServiceMessageDto,
    @ReqMeta() meta: RequestMeta,
  ): Promise<null> {
    await this.official.sendCustomText(auth.userId, body.userId, body.text, meta);
    return null;
  }
}
