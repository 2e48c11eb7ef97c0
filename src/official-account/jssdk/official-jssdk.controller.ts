import { Controller, Get, Query } from '@nestjs/common';
import { ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsString } from 'class-validator';
import { Public } from '../../common/auth/decorators.js';
import { ApiEnvelope } from '../../common/envelope/api-envelope.decorator.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import { PAGE_URL_MAX_CHARACTERS } from '../../common/http/allowed-page-url.js';
import { OfficialAccountRoute } from '../../wechat/official-account-gate.js';
import { OfficialJssdkService, type JssdkConfig } from './official-jssdk.service.js';

export class JssdkConfigQuery {
  @ApiProperty({
    description:
      "the page's absolute http(s) URL without # and what follows, exactly as the page has it (location.href up to #); its origin must be on OAUTH_REDIRECT_ALLOWLIST",
    maxLength: PAGE_URL_MAX_CHARACTERS,
    example: 'https://h5.example.com/pay?order=1',
  })
  // The rules themselves are checkAllowedPageUrl's, shared with the OAuth redirect.
  @IsString()
  url!: string;
}

export class JssdkConfigView implements JssdkConfig {
  @ApiProperty({ description: "the official account's app id" }) appId!: string;
  @ApiProperty({ description: 'Unix time in seconds', example: 1414587457 }) timestamp!: number;
  @ApiProperty({ description: '16 of A-Za-z0-9, fresh each call', example: 'Wm3WZYTPz0wzccnW' })
  nonceStr!: string;
  @ApiProperty({
    description: 'hex sha1 of jsapi_ticket=…&noncestr=…&timestamp=…&url=… (the url exactly as sent)',
    example: '0f9de62fce790f9a083d5c99e95740ceb90c27ed',
  })
  signature!: string;
}

/** What an H5 page in the WeChat browser passes to wx.config(). */
@ApiTags('official account')
@OfficialAccountRoute()
@Controller('wechat/official')
export class OfficialJssdkController {
  constructor(private readonly jssdk: OfficialJssdkService) {}

  @Get('jssdk-config')
  @Public()
  @ApiEnvelope(JssdkConfigView, [
    ErrorCode.REDIRECT_NOT_ALLOWED,
    ErrorCode.NOT_FOUND,
    ErrorCode.RATE_LIMITED,
    ErrorCode.WECHAT_ERROR,
    ErrorCode.WECHAT_TIMEOUT,
  ])
  config(@Query() query: JssdkConfigQuery): Promise<JssdkConfigView> {
    return this.jssdk.configFor(query.url);
  }
}
