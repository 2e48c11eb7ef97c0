import { MetricsService } from '../../metrics/metrics.service.js';
import {
  StableTokenApi,
  type StableToken,
  type StableTokenRequest,
} from '../access-token/stable-token-api.port.js';
import { wechatError, type WechatAppKind } from '../wechat-errors.js';
import { WechatHttp } from './wechat-http.js';

/**
 * `POST /cgi-bin/stable_token` over WechatHttp (its deadline, busy retries and circuit breaker),
 * never /cgi-bin/token, which would end the copies other services of the same app hold. One
 * instance per app, each with that app's credentials (WechatModule builds them).
 */
export class LiveStableTokenApi extends StableTokenApi {
  constructor(
    private readonly http: WechatHttp,
    private readonly credentials: { appId: string; appSecret: string },
    private readonly metrics: MetricsService,
    private readonly app: WechatAppKind = 'mini-program',
  ) {
    super();
  }

  async fetchStableToken({ forceRefresh, deadline }: StableTokenRequest): Promise<StableToken> {
    const answer = await this.http.call({
      api: 'stable_token',
      method: 'POST',
      path: '/cgi-bin/stable_token',
      body: {
        grant_type: 'client_credential',
        appid: this.credentials.appId,
        secret: this.credentials.appSecret,
        force_refresh: forceRefresh,
      },
      deadline,
    });
    const accessToken = answer.access_token;
    const expiresIn = Number(answer.expires_in);
    if (answer.errcode || typeof accessToken !== 'string' || !accessToken || !(expiresIn > 0)) {
      this.metrics.accessTokenFetches.inc({ result: 'error' });
      throw wechatError('stable_token', answer.errcode ?? 0, this.app);
    }
    this.metrics.accessTokenFetches.inc({ result: forceRefresh ? 'forced' : 'ok' });
    return { accessToken, expiresIn };
  }
}
