import { Logger } from '@nestjs/common';
import type { WechatPayConfig } from '../config/app-config.js';
import type { MetricsService } from '../metrics/metrics.service.js';
import { AeadAes256Gcm } from './crypto/aead-aes-256-gcm.js';
import { systemClock, type Clock } from './crypto/nonce-and-clock.js';
import { RsaPaySigner } from './crypto/pay-signer.js';
import { PlatformCertificates } from './crypto/platform-certificates.js';
import { RsaRequestSigner } from './crypto/request-signer.js';
import { WechatPaySignatureVerifier } from './crypto/signature-verifier.js';
import { SerialKeySource } from './crypto/verification-keys.js';
import { liveCertificateDownload } from './live/live-certificates.js';
import { LiveWechatPayClient } from './live/live-wechat-pay-client.js';
import { WechatPayHttp } from './live/wechat-pay-http.js';
import { OffWechatPayClient } from './off/off-wechat-pay.js';
import { SandboxWechatPay, sandboxKeys } from './sandbox/sandbox-wechat-pay.js';
import type { PayNotificationVerifier, WechatPayClient, WechatPaySandbox } from './wechat-pay-client.port.js';
import { WechatPayNotificationVerifier } from './wechat-pay-notifications.js';

/** Everything one mode of WeChat Pay is made of, built once per app. */
export interface WechatPayRuntime {
  client: WechatPayClient;
  notifications: PayNotificationVerifier;
  sandbox: WechatPaySandbox | null;
  /** Live only: the HTTP pool (closed at shutdown) and the certificates (downloaded at start-up without a public key). */
  http?: WechatPayHttp;
  certificates?: PlatformCertificates;
  /** Live without a public key: every answer needs a certificate, so they are fetched at start-up. */
  downloadCertificatesAtStart?: boolean;
  /** One line for the start-up log: the mode, and in live mode what verifies answers. */
  describe: string;
}

/**
 * Builds the adapters of WECHAT_PAY_MODE. Answers and notifications go through one signature
 * verifier per app: in live mode keyed by serial over the public key and the platform
 * certificates, in the sandbox over the stand-in's own platform key.
 */
export async function createWechatPay(
  config: WechatPayConfig,
  metrics: MetricsService,
  clock: Clock = systemClock,
): Promise<WechatPayRuntime> {
  if (config.mode === 'off') {
    const off = new OffWechatPayClient();
    return {
      client: off,
      notifications: off,
      sandbox: null,
      describe: 'WeChat Pay is off (WECHAT_PAY_MODE=off): paying and refunding answer 503 / 50301',
    };
  }

  if (config.mode === 'sandbox') {
    const sandbox = new SandboxWechatPay(await sandboxKeys(), config, clock);
    const { platform, apiV3Key } = sandbox.keys;
    const verifier = new WechatPaySignatureVerifier(
      new SerialKeySource({ id: platform.id, key: platform.publicKey }, undefined),
      clock,
    );
    return {
      client: sandbox,
      notifications: new WechatPayNotificationVerifier(verifier, new AeadAes256Gcm(apiV3Key)),
      sandbox,
      describe: 'WeChat Pay: sandbox (WECHAT_PAY_MODE=sandbox): simulated in-process, no call leaves it',
    };
  }

  const { privateKey, apiV3Key, publicKey } = config;
  // loadWechatPayConfig requires both in live mode; checked again so a hand-built config fails here.
  if (!privateKey || !apiV3Key)
    throw new Error('live WeChat Pay needs the merchant private key and the APIv3 key');
  const logger = new Logger('WechatPay');
  const aead = new AeadAes256Gcm(apiV3Key);
  const http = new WechatPayHttp(
    config,
    new RsaRequestSigner({ mchid: config.mchid, serial: config.merchantSerial, privateKey }, clock),
    metrics,
  );
  const certificates = new PlatformCertificates(liveCertificateDownload(http, aead, clock), {
    clock,
    onFailure: (error) => logger.warn(`platform certificates not downloaded: ${(error as Error).message}`),
  });
  const verifier = new WechatPaySignatureVerifier(new SerialKeySource(publicKey, certificates), clock);
  const keys = publicKey
    ? `the public key ${publicKey.id}, then platform certificates`
    : 'platform certificates';
  return {
    client: new LiveWechatPayClient(
      http,
      verifier,
      new RsaPaySigner(config.appId, privateKey, clock),
      config,
    ),
    notifications: new WechatPayNotificationVerifier(verifier, aead),
    sandbox: null,
    http,
    certificates,
    downloadCertificatesAtStart: !publicKey,
    describe: `WeChat Pay: live, merchant ${config.mchid} at ${config.apiBaseUrl}; signatures verified with ${keys}`,
  };
}
