import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsString, MaxLength } from 'class-validator';
import { PAGE_URL_MAX_CHARACTERS } from '../../common/http/allowed-page-url.js';
import { Optional } from '../../common/validation/presence.js';
import { OAUTH_SCOPES, type OAuthScope } from '../oauth/oauth-state.js';

export class OAuthAuthorizeQuery {
  @ApiPropertyOptional({
    enum: OAUTH_SCOPES,
    default: 'snsapi_base',
    description: 'snsapi_base: silent, openid only; snsapi_userinfo: asks consent, gives nickname and avatar',
  })
  @Optional()
  @IsIn(OAUTH_SCOPES)
  scope?: OAuthScope;

  @ApiProperty({
    description:
      'the page to send the browser back to: absolute http(s), no #, its origin on OAUTH_REDIRECT_ALLOWLIST',
    maxLength: PAGE_URL_MAX_CHARACTERS,
    example: 'https://h5.example.com/after-login',
  })
  // Its form and origin are checked in one place with the JS-SDK url's (checkAllowedPageUrl).
  @IsString()
  redirect!: string;
}

/**
 * What WeChat sends the browser back with. Both may be missing: no `code` means the person refused
 * (`#error=40006`), and a missing `state` is a bad state (40005), decided by the service.
 */
export class OAuthCallbackQuery {
  @ApiPropertyOptional({ description: 'the one-time code; left out when the person refused' })
  @Optional()
  @IsString()
  code?: string;

  @ApiPropertyOptional({ description: 'the state made by authorize, handed back by WeChat' })
  @Optional()
  @IsString()
  state?: string;
}

export class OAuthExchangeDto {
  @ApiProperty({ description: 'the one-time ticket from the callback’s #ticket=', maxLength: 256 })
  @IsString()
  @MaxLength(256)
  ticket!: string;
}
