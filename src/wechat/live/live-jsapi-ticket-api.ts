import { MetricsService } from '../../metrics/metrics.service.js';
import type { AccessTokenProvider } from '../access-token/access-token.provider.js';
import {
  StableTokenApi,
  type StableToken,
  type StableTokenRequest,
} from '../access-token/stable-token-api.port.js';
import { officialError } from '../wechat-errors.js';
import { WechatHttp } from './wechat-http.js';

/**
 * `GET /cgi-bin/ticket/getticket?type=jsapi` with the official account's access token, in the shape
 * of a stable_token fetch, so that an AccessTokenProvider of its own caches and shares the ticket by
 * the access token's rules (one fetcher at a time across instances, kept until 5 minutes before its
 * expires_in). WeChat limits these calls per day. There is no force_refresh for a ticket: the flag is
 * never set, since nothing reports a ticket refused.
 */
export class LiveJsapiTicketApi extends StableTokenApi {
  constructor(
    private readonly http: WechatHttp,
    private readonly officialTokens: AccessTokenProvider,
    private readonly metrics: MetricsService,
  ) {
    super();
  }

  async fetchStableToken({ deadline }: StableTokenRequest): Promise<StableToken> {
    let answer;
    try {
      answer = await this.officialTokens.withToken(deadline, (token) =>
        this.http.call({
          api: 'getticket',
          method: 'GET',
          path: '/cgi-bin/ticket/getticket',
          query: { access_token: token, type: 'jsapi' },
          deadline,
        }),
      );
    } catch (error) {
      this.metrics.jsapiTicketFetches.inc({ result: 'error' });
      throw error;
    }
    const ticket = answer.ticket;
    const expiresIn = Number(answer.expires_in);
    if (answer.errcode || typeof ticket !== 'string' || !ticket || !(expiresIn > 0)) {
      this.metrics.jsapiTicketFetches.inc({ result: 'error' });
      throw officialError('getticket', answer.errcode ?? 0, answer.errmsg);
    }
    this.metrics.jsapiTicketFetches.inc({ result: 'ok' });
    return { accessToken: ticket, expiresIn };
  }
}
