import {
  DecryptionFailed,
  type EncryptedResource,
  type ResourceDecryptor,
} from './crypto/aead-aes-256-gcm.js';
import { VerificationFailed, type SignatureVerifier } from './crypto/signature-verifier.js';
import {
  NotificationRefused,
  type NotificationKind,
  type PayNotificationVerifier,
  type RawNotification,
  type VerifiedNotification,
} from './wechat-pay-client.port.js';
import { parseObject, refundFrom, transactionFrom } from './wechat-pay-wire.js';

/**
 * One verifier for WeChat Pay's notifications and the sandbox's alike: the signature over the raw
 * bytes first (401 when it fails: nothing in an unverified body is read), then the body and its
 * resource (400 when it is not JSON or does not decrypt). What the content says is not judged
 * here. The decrypted resource is returned, never logged.
 */
export class WechatPayNotificationVerifier implements PayNotificationVerifier {
  constructor(
    private readonly signatures: SignatureVerifier,
    private readonly decryptor: ResourceDecryptor,
  ) {}

  async verify(kind: NotificationKind, notification: RawNotification): Promise<VerifiedNotification> {
    try {
      await this.signatures.verify(notification.headers, notification.body);
    } catch (error) {
      if (error instanceof VerificationFailed) throw new NotificationRefused(401, error.message);
      throw error;
    }
    const envelope = parseObject(notification.body);
    if (!envelope) throw new NotificationRefused(400, 'the body is not a JSON object');
    const resource = envelope.resource as EncryptedResource | undefined;
    if (!resource || typeof resource !== 'object' || Array.isArray(resource)) {
      throw new NotificationRefused(400, 'the notification has no resource');
    }
    let plain: Buffer;
    try {
      plain = this.decryptor.decrypt(resource);
    } catch (error) {
      if (error instanceof DecryptionFailed)
        throw new NotificationRefused(400, 'the resource does not decrypt');
      throw error;
    }
    const content = parseObject(plain);
    if (!content) throw new NotificationRefused(400, 'the decrypted resource is not a JSON object');
    const eventType = typeof envelope.event_type === 'string' ? envelope.event_type : '';
    const id = typeof envelope.id === 'string' ? envelope.id : '';
    return kind === 'transaction'
      ? { kind, eventType, id, transaction: transactionFrom(content) }
      : { kind, eventType, id, refund: refundFrom(content) };
  }
}
