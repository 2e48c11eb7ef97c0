import { applyDecorators, Body, Controller, Get, HttpCode, Post, Query, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../common/auth/decorators.js';
import { ApiEnvelope } from '../common/envelope/api-envelope.decorator.js';
import { RawResponse } from '../common/envelope/envelope.js';
import { errorResponses } from '../common/envelope/route-errors.js';
import { ErrorCode } from '../common/errors/error-code.js';
import { ReqMeta, requestMetaOf, type RequestMeta } from '../common/http/request-meta.js';
import { RateLimit } from '../rate-limit/rate-limit.guard.js';
import { OfficialAccountRoute } from '../wechat/official-account-gate.js';
import { LoginView } from './dto/auth.dto.js';
import { OAuthAuthorizeQuery, OAuthCallbackQuery, OAuthExchangeDto } from './dto/oauth.dto.js';
import { OAuthService } from './oauth/oauth.service.js';

/**
 * The refusals of a route answering outside the envelope on success: they are envelopes, documented
 * as every enveloped route's are (the document's completion skips raw routes, so they are listed here).
 */
function ApiEnvelopedErrors(...codes: ErrorCode[]) {
  const all = [
    ...codes,
    ErrorCode.RATE_LIMITED,
    ErrorCode.NOT_FOUND,
    ErrorCode.INTERNAL,
    ErrorCode.DEPENDENCY_UNAVAILABLE,
  ];
  return applyDecorators(
    ...Object.entries(errorResponses(all)).map(([status, response]) =>
      ApiResponse({ status: Number(status), ...response }),
    ),
  );
}

/**
 * Web sign-in through the official account (WeChat's 网页授权). authorize and callback answer with
 * redirects, outside the envelope (their refusals are envelopes); exchange answers as login does.
 * Every route counts in the login rate limit and is not found without an official account.
 */
@ApiTags('auth')
@Public()
@OfficialAccountRoute()
@Controller('auth/wechat/oauth')
export class OAuthController {
  constructor(private readonly oauth: OAuthService) {}

  @Get('authorize')
  @RateLimit('login')
  @RawResponse()
  @ApiOperation({
    summary: 'Start a web sign-in: 302 to WeChat’s authorize page, with a state bound to a cookie',
  })
  @ApiResponse({ status: 302, description: 'to open.weixin.qq.com; sets the wxb_oauth cookie' })
  @ApiEnvelopedErrors(ErrorCode.VALIDATION_FAILED, ErrorCode.REDIRECT_NOT_ALLOWED)
  async authorize(
    @Query() query: OAuthAuthorizeQuery,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const { location, setCookie } = await this.oauth.authorize(
      query.scope ?? 'snsapi_base',
      query.redirect,
      request.headers.cookie,
    );
    await reply
      .code(302)
      .header('cache-control', 'no-store')
      .header('set-cookie', setCookie)
      .header('location', location)
      .send();
  }

  /** WeChat's return; the query follows the input rules of every route (no unknown or repeated parameter). */
  @Get('callback')
  @RateLimit('login')
  @RawResponse()
  @ApiOperation({
    summary: 'WeChat sends the browser back here; 302 to the page with #ticket=T or #error=CODE',
  })
  @ApiResponse({ status: 302, description: 'to the redirect given to authorize, #ticket=T or #error=CODE' })
  @ApiEnvelopedErrors(ErrorCode.VALIDATION_FAILED, ErrorCode.OAUTH_STATE_INVALID)
  async callback(
    @Query() query: OAuthCallbackQuery,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const location = await this.oauth.callback(
      query.code,
      query.state,
      request.headers.cookie,
      requestMetaOf(request),
    );
    await reply.code(302).header('cache-control', 'no-store').header('location', location).send();
  }

  @Post('exchange')
  @RateLimit('login')
  @HttpCode(200)
  @ApiOperation({ summary: 'The one-time ticket → our own tokens, as the mini-program login answers' })
  @ApiEnvelope(LoginView, [
    ErrorCode.OAUTH_TICKET_INVALID,
    ErrorCode.USER_DISABLED,
    ErrorCode.NOT_FOUND, // no official account
  ])
  exchange(@Body() body: OAuthExchangeDto, @ReqMeta() meta: RequestMeta): Promise<LoginView> {
    return this.oauth.exchange(body.ticket, meta);
  }
}
