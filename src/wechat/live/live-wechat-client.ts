import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '../../common/errors/app-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import { wechatConfig, type WechatSlice } from '../../config/config.slices.js';
import { AccessTokenProvider } from '../access-token/access-token.provider.js';
import type {
  SubscribeMessage,
  WechatClient,
  WechatPhoneInfo,
  WechatSession,
} from '../wechat-client.port.js';
import { WECHAT_CRYPTO, type WechatCrypto } from '../wechat-crypto.port.js';
import { wechatError } from '../wechat-errors.js';
import { WechatHttp, type WechatAnswer, type WechatRequest } from './wechat-http.js';

const SESSION_KEY_STALE = 87009;

/** The real WeChat, over HTTP (docs/api.md lists each call). */
@Injectable()
export class LiveWechatClient implements WechatClient {
  private readonly appId: string;
  private readonly appSecret: string;

  constructor(
    private readonly http: WechatHttp,
    private readonly tokens: AccessTokenProvider,
    @Inject(WECHAT_CRYPTO) private readonly crypto: WechatCrypto,
    @Inject(wechatConfig.KEY) wechat: Pick<WechatSlice, 'appId' | 'appSecret'>,
  ) {
    this.appId = wechat.appId;
    this.appSecret = wechat.appSecret;
  }

  async code2Session(code: string): Promise<WechatSession> {
    const answer = await this.http.call({
      api: 'jscode2session',
      method: 'GET',
      path: '/sns/jscode2session',
      query: { appid: this.appId, secret: this.appSecret, js_code: code, grant_type: 'authorization_code' },
      deadline: this.http.deadline(),
    });
    if (answer.errcode) throw wechatError('jscode2session', answer.errcode);
    const { openid, session_key: sessionKey, unionid } = answer;
    if (typeof openid !== 'string' || !openid || typeof sessionKey !== 'string' || !sessionKey) {
      throw new AppError(ErrorCode.WECHAT_ERROR, 'WeChat answered without openid or session_key');
    }
    return { openid, sessionKey, unionid: typeof unionid === 'string' && unionid ? unionid : undefined };
  }

  async getPhoneNumber(code: string): Promise<WechatPhoneInfo> {
    const answer = await this.withAccessToken({
      api: 'getuserphonenumber',
      method: 'POST',
      path: '/wxa/business/getuserphonenumber',
      body: { code },
    });
    if (answer.errcode) throw wechatError('getuserphonenumber', answer.errcode);
    const info = answer.phone_info as Partial<WechatPhoneInfo> | undefined;
    if (!info || typeof info.purePhoneNumber !== 'string' || typeof info.phoneNumber !== 'string') {
      throw new AppError(ErrorCode.WECHAT_ERROR, 'WeChat answered without phone_info');
    }
    if (info.watermark?.appid !== this.appId) throw new AppError(ErrorCode.WECHAT_APPID_MISMATCH);
    return info as WechatPhoneInfo;
  }

  async sendSubscribeMessage(message: SubscribeMessage): Promise<void> {
    const answer = await this.withAccessToken({
      api: 'subscribe_send',
      method: 'POST',
      path: '/cgi-bin/message/subscribe/send',
      // The message worker makes the attempts (its backoff, its count): no retry of -1 inside one.
      retryBusy: false,
      body: {
        touser: message.touser,
        template_id: message.templateId,
        page: message.page,
        miniprogram_state: message.miniprogramState,
        lang: message.lang,
        data: message.data,
      },
    });
    if (answer.errcode) throw wechatError('subscribe_send', answer.errcode);
  }

  async checkSessionKey(openid: string, sessionKey: string): Promise<boolean> {
    const answer = await this.withAccessToken({
      api: 'checksession',
      method: 'GET',
      path: '/wxa/checksession',
      query: { openid, signature: this.crypto.sessionKeySignature(sessionKey), sig_method: 'hmac_sha256' },
    });
    if (answer.errcode === SESSION_KEY_STALE) return false;
    if (answer.errcode) throw wechatError('checksession', answer.errcode);
    return true;
  }

  /** A call carrying access_token, repeated once with a fresh token when WeChat refuses it. */
  private withAccessToken(
    request: Omit<WechatRequest, 'deadline' | 'query'> & { query?: Record<string, string> },
  ): Promise<WechatAnswer> {
    const deadline = this.http.deadline();
    return this.tokens.withToken(deadline, (token) =>
      this.http.call({ ...request, query: { ...request.query, access_token: token }, deadline }),
    );
  }
}
