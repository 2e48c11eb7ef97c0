import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '../../common/errors/app-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import { checkAllowedPageUrl } from '../../common/http/allowed-page-url.js';
import { officialConfig, type OfficialSlice } from '../../config/config.slices.js';
import {
  WECHAT_OFFICIAL_CLIENT,
  type OfficialAccountClient,
} from '../../wechat/official-account-client.port.js';
import { jssdkSignature, newNonceStr } from './jssdk-signature.js';

export interface JssdkConfig {
  appId: string;
  timestamp: number;
  nonceStr: string;
  signature: string;
}

/** wx.config() for one page: the page's URL checked, then signed with the shared jsapi_ticket. */
@Injectable()
export class OfficialJssdkService {
  private readonly allowlist: readonly string[];

  constructor(
    @Inject(WECHAT_OFFICIAL_CLIENT) private readonly official: OfficialAccountClient | null,
    @Inject(officialConfig.KEY) config: Pick<OfficialSlice, 'redirectAllowlist'>,
  ) {
    this.allowlist = config.redirectAllowlist;
  }

  /** `url` is signed exactly as received: WeChat signs the page's own location.href. */
  async configFor(url: unknown): Promise<JssdkConfig> {
    // The route's gate answers first without an official account; this keeps the service honest alone.
    if (!this.official) throw new AppError(ErrorCode.NOT_FOUND);
    const page = checkAllowedPageUrl(url, this.allowlist, 'url');
    const ticket = await this.official.getJsapiTicket();
    const timestamp = Math.floor(Date.now() / 1000);
    const nonceStr = newNonceStr();
    return {
      appId: this.official.appId,
      timestamp,
      nonceStr,
      signature: jssdkSignature({ ticket, nonceStr, timestamp, url: page }),
    };
  }
}
