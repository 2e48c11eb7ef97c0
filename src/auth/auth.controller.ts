import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Public, type AuthUser } from '../common/auth/decorators.js';
import { ApiEnvelope } from '../common/envelope/api-envelope.decorator.js';
import { ErrorCode } from '../common/errors/error-code.js';
import { ReqMeta, type RequestMeta } from '../common/http/request-meta.js';
import { RateLimit } from '../rate-limit/rate-limit.guard.js';
import { AuthService } from './auth.service.js';
import { LoginDto, LoginView, LogoutDto, RefreshDto, TokensView } from './dto/auth.dto.js';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Public()
  @RateLimit('login')
  @Post('wechat/login')
  @HttpCode(200)
  @ApiEnvelope(LoginView, [
    ErrorCode.WECHAT_CODE_INVALID,
    ErrorCode.USER_DISABLED,
    ErrorCode.WECHAT_USER_HIGH_RISK,
    ErrorCode.RATE_LIMITED, // WeChat's quota (errcode 45009 / 45011), not only our limit
    ErrorCode.WECHAT_ERROR,
    ErrorCode.WECHAT_TIMEOUT,
  ])
  login(@Body() body: LoginDto, @ReqMeta() meta: RequestMeta): Promise<LoginView> {
    return this.auth.login(body.code, meta);
  }

  @Public()
  @RateLimit('login')
  @Post('refresh')
  @HttpCode(200)
  @ApiEnvelope(TokensView, [
    ErrorCode.REFRESH_TOKEN_INVALID,
    ErrorCode.REFRESH_TOKEN_REUSED,
    ErrorCode.USER_DISABLED,
  ])
  refresh(@Body() body: RefreshDto, @ReqMeta() meta: RequestMeta): Promise<TokensView> {
    return this.auth.refresh(body.refreshToken, meta);
  }

  @ApiBearerAuth()
  @Post('logout')
  @HttpCode(200)
  @ApiEnvelope(null)
  async logout(
    @CurrentUser() user: AuthUser,
    @Body() body: LogoutDto,
    @ReqMeta() meta: RequestMeta,
  ): Promise<null> {
    await this.auth.logout(user.userId, user.sessionId, body.allDevices === true, meta);
    return null;
  }
}
