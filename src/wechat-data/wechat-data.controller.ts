import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentUser, type AuthUser } from '../common/auth/decorators.js';
import { ApiEnvelope } from '../common/envelope/api-envelope.decorator.js';
import { ErrorCode } from '../common/errors/error-code.js';
import { RateLimit } from '../rate-limit/rate-limit.guard.js';
import { DecryptDto } from './decrypt.dto.js';
import { WechatDataService } from './wechat-data.service.js';

@ApiTags('wechat')
@ApiBearerAuth()
@Controller('wechat')
export class WechatDataController {
  constructor(private readonly data: WechatDataService) {}

  @Post('decrypt')
  @HttpCode(200)
  @RateLimit('wechat_user')
  @ApiEnvelope(null, [
    ErrorCode.WECHAT_APPID_MISMATCH,
    ErrorCode.WECHAT_DATA_NOT_CURRENT,
    ErrorCode.WECHAT_SESSION_KEY_STALE,
  ])
  decrypt(@CurrentUser() user: AuthUser, @Body() body: DecryptDto): Promise<Record<string, unknown>> {
    return this.data.decryptForUser(user.userId, body.encryptedData, body.iv);
  }
}
