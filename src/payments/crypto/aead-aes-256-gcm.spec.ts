import { encryptResource } from '../../../test/support/fake-wechat-pay-wire.js';
import { AeadAes256Gcm, DecryptionFailed } from './aead-aes-256-gcm.js';

const APIV3_KEY = 'Q7m2Vx9LpR4tZc8NwB1sKd6HfJ3gYa0E';
const aead = new AeadAes256Gcm(Buffer.from(APIV3_KEY));

describe('AeadAes256Gcm', () => {
  it('decrypts what WeChat Pay encrypts: data ‖ tag in base64, nonce and associated data as text', () => {
    const resource = encryptResource(
      APIV3_KEY,
      '{"out_trade_no":"1217752501201407033233368018"}',
      'transaction',
    );
    expect(aead.decrypt(resource).toString()).toBe('{"out_trade_no":"1217752501201407033233368018"}');
    expect(
      aead
        .decrypt({ ...encryptResource(APIV3_KEY, 'certificate', ''), associated_data: undefined })
        .toString(),
    ).toBe('certificate');
  });

  it('round-trips its own encryption (the sandbox plays WeChat Pay with it)', () => {
    expect(aead.decrypt(aead.encrypt('支付成功', 'refund')).toString()).toBe('支付成功');
  });

  it.each([
    ['another APIv3 key', () => encryptResource('0'.repeat(32), 'x', 'transaction')],
    [
      'other associated data',
      () => ({ ...encryptResource(APIV3_KEY, 'x', 'transaction'), associated_data: 'refund' }),
    ],
    ['another nonce', () => ({ ...encryptResource(APIV3_KEY, 'x', 'transaction'), nonce: 'aaaaaaaaaaaa' })],
    [
      'a changed byte',
      () => {
        const resource = encryptResource(APIV3_KEY, 'hello world', 'transaction');
        const bytes = Buffer.from(resource.ciphertext, 'base64');
        bytes[0] ^= 1;
        return { ...resource, ciphertext: bytes.toString('base64') };
      },
    ],
    [
      'a ciphertext shorter than the tag',
      () => ({ ...encryptResource(APIV3_KEY, 'x', 'a'), ciphertext: 'AAAA' }),
    ],
    [
      'a ciphertext that is not base64',
      () => ({ ...encryptResource(APIV3_KEY, 'x', 'a'), ciphertext: '%%%%' + 'A'.repeat(40) }),
    ],
    ['another algorithm', () => ({ ...encryptResource(APIV3_KEY, 'x', 'a'), algorithm: 'AEAD_SM4_GCM' })],
  ])('refuses %s', (_what, make) => {
    expect(() => aead.decrypt(make() as never)).toThrow(DecryptionFailed);
  });
});
