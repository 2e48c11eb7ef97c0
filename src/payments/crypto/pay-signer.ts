import type { KeyObject } from 'node:crypto';
import type { PayParams } from '../wechat-pay-client.port.js';
import { randomAlphanumeric, systemClock, unixSeconds, type Clock } from './nonce-and-clock.js';
import { rsaSign } from './request-signer.js';

/** What `wx.requestPayment` takes for a prepay id. */
export interface PaySigner {
  payParams(prepayId: string): PayParams;
}

/**
 * paySign = base64 SHA256withRSA with the merchant key over `appId\ntimeStamp\nnonceStr\npackage\n`,
 * with a fresh time and 32-character nonce each call. The result goes to the payer only, never to
 * a log.
 */
export class RsaPaySigner implements PaySigner {
  constructor(
    private readonly appId: string,
    private readonly privateKey: KeyObject,
    private readonly clock: Clock = systemClock,
  ) {}

  payParams(prepayId: string): PayParams {
    const timeStamp = String(unixSeconds(this.clock));
    const nonceStr = randomAlphanumeric(32);
    const pkg = `prepay_id=${prepayId}`;
    return {
      timeStamp,
      nonceStr,
      package: pkg,
      signType: 'RSA',
      paySign: rsaSign(this.privateKey, `${this.appId}\n${timeStamp}\n${nonceStr}\n${pkg}\n`),
    };
  }
}
