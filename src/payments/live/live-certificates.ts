import type { ResourceDecryptor } from '../crypto/aead-aes-256-gcm.js';
import { systemClock, type Clock } from '../crypto/nonce-and-clock.js';
import {
  CertificatesUnusable,
  readCertificatesAnswer,
  type CertificateDownload,
  type PlatformKey,
} from '../crypto/platform-certificates.js';
import { VerificationFailed } from '../crypto/signature-verifier.js';
import type { WechatPayHttp } from './wechat-pay-http.js';

/**
 * GET /v3/certificates, the answer verified with a certificate it carries (so no key is needed
 * before the first download). Rejects with AppError like any call (50201, 50202, 50400);
 * PlatformCertificates decides when to ask.
 */
export function liveCertificateDownload(
  http: WechatPayHttp,
  decryptor: ResourceDecryptor,
  clock: Clock = systemClock,
): CertificateDownload {
  return async () => {
    const answer = await http.exchange({
      api: 'certificates',
      method: 'GET',
      pathAndQuery: '/v3/certificates',
    });
    let keys: PlatformKey[] = [];
    await http.accept('certificates', answer, async () => {
      try {
        keys = await readCertificatesAnswer(answer.headers, answer.body, decryptor, clock);
      } catch (error) {
        if (error instanceof CertificatesUnusable) throw new VerificationFailed('content', error.message);
        throw error;
      }
    });
    return keys;
  };
}
