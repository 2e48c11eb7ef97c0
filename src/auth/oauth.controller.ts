import { Body, Controller, Get, HttpCode, Post, Query, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../common/auth/decorators.js';
import { ApiEnvelope } from '../common/envelope/api-envelope.decorator.js';
import { RawResponse } from '../common/envelope/envelope.js';
import { ErrorCode } from '../common/errors/error-code.js';
import { ReqMeta, requestMetaOf, type RequestMeta } from '../common/http/request-meta.js';
import { RateLimit } from '../rate-limit/rate-limit.guard.js';
import { OfficialAccountRoute } from '../wechat/official-account-gate.js';
import { LoginView } from './dto/auth.dto.js';
import { OAuthAuthorizeQuery, OAuthExchangeDto } from './dto/oauth.dto.js';
import { OAuthService } from './oauth/oauth.service.js';

const ENVELOPED_ERROR = { description: 'the envelope with one of the codes named' };

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
  @ApiResponse({ status: 400, ...ENVELOPED_ERROR, description: 'code 40000 (redirect, scope) / 40004' })
  @ApiResponse({ status: 404, ...ENVELOPED_ERROR, description: 'code 40400: no official account' })
  @ApiResponse({ status: 429, ...ENVELOPED_ERROR, description: 'code 42900' })
  @ApiResponse({ status: 503, ...ENVELOPED_ERROR, description: 'code 50300' })
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

  /**
   * WeChat's return. The query is read as sent (WeChat, not a client, writes it): the state is
   * checked by the service, and any other parameter is ignored.
   */
  @Get('callback')
  @RateLimit('login')
  @RawResponse()
  @ApiOperation({
    summary: 'WeChat sends the browser back here; 302 to the page with #ticket=T or #error=CODE',
  })
  @ApiQuery({ name: 'code', required: false, description: 'absent when the person refused' })
  @ApiQuery({ name: 'state', required: true })
  @ApiResponse({ status: 302, description: 'to the redirect given to authorize, #ticket=T or #error=CODE' })
  @ApiResponse({ status: 400, ...ENVELOPED_ERROR, description: 'code 40005: the state (not spent)' })
  @ApiResponse({ status: 404, ...ENVELOPED_ERROR, description: 'code 40400: no official account' })
  @ApiResponse({ status: 429, ...ENVELOPED_ERROR, description: 'code 42900' })
  @ApiResponse({ status: 503, ...ENVELOPED_ERROR, description: 'code 50300' })
  async callback(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const query = (request.query ?? {}) as Record<string, unknown>;
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
  @ApiEnvelope(LoginView, [ErrorCode.OAUTH_TICKET_INVALID, ErrorCode.USER_DISABLED])
  exchange(@Body() body: OAuthExchangeDto, @ReqMeta() meta: RequestMeta): Promise<LoginView> {
    return this.oauth.exchange(body.ticket, meta);
  }
}
