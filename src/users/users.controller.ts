import { Body, Controller, Get, HttpCode, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentUser, type AuthUser } from '../common/auth/decorators.js';
import { ApiEnvelope } from '../common/envelope/api-envelope.decorator.js';
import { ErrorCode } from '../common/errors/error-code.js';
import { ReqMeta, type RequestMeta } from '../common/http/request-meta.js';
import { RateLimit } from '../rate-limit/rate-limit.guard.js';
import { UpdateProfileDto } from './dto/update-profile.dto.js';
import { WechatCodeDto } from './dto/wechat-code.dto.js';
import { toUserView, UserView } from './user-view.js';
import { UsersService } from './users.service.js';

@ApiTags('users')
@ApiBearerAuth()
@Controller('users/me')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @ApiEnvelope(UserView)
  async me(@CurrentUser() auth: AuthUser): Promise<UserView> {
    return toUserView(await this.users.getVisible(auth.userId));
  }

  @Patch()
  @ApiEnvelope(UserView, [ErrorCode.NOT_FOUND])
  async update(@CurrentUser() auth: AuthUser, @Body() body: UpdateProfileDto): Promise<UserView> {
    return toUserView(await this.users.updateProfile(auth.userId, body));
  }

  @Post('phone')
  @HttpCode(200)
  @RateLimit('wechat_user')
  @ApiEnvelope(UserView, [
    ErrorCode.WECHAT_CODE_INVALID,
    ErrorCode.WECHAT_APPID_MISMATCH,
    ErrorCode.NOT_FOUND,
    ErrorCode.RATE_LIMITED, // WeChat's quota (errcode 45009 / 45011), not only our limit
    ErrorCode.WECHAT_ERROR,
    ErrorCode.WECHAT_TIMEOUT,
  ])
  async bindPhone(
    @CurrentUser() auth: AuthUser,
    @Body() body: WechatCodeDto,
    @ReqMeta() meta: RequestMeta,
  ): Promise<UserView> {
    return toUserView(await this.users.bindPhone(auth.userId, body.code, meta));
  }
}
