import { createHash } from 'node:crypto';
import { MetricsService } from '../../metrics/metrics.service.js';
import { StableTokenApi, type StableToken } from '../access-token/stable-token-api.port.js';

const LIFETIME_S = 7200;

/**
 * The sandbox's jsapi_ticket: in process and deterministic (the same official account gets the same
 * ticket), behind the same AccessTokenProvider as the live one, so that caching and sharing are the
 * live code's.
 */
export class SandboxJsapiTicketApi extends StableTokenApi {
  constructor(
    private readonly official: { appId: string },
    private readonly metrics: MetricsService,
  ) {
    super();
  }

  fetchStableToken(): Promise<StableToken> {
    this.metrics.jsapiTicketFetches.inc({ result: 'ok' });
    const digest = createHash('sha256').update(`jsapi_ticket:${this.official.appId}`).digest('base64url');
    return Promise.resolve({ accessToken: `sbx_ticket_${digest.slice(0, 40)}`, expiresIn: LIFETIME_S });
  }
}
