import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { signedHeaders } from '../../../test/support/fake-wechat-pay-wire.js';
import { VerificationFailed, WechatPaySignatureVerifier, type HeaderBag } from './signature-verifier.js';
import { SerialKeySource, StaticKeys } from './verification-keys.js';

/** WeChat Pay's documented public-key-mode verification example (APIv3 rules, "验证签名"). */
const VECTOR = {
  publicKeyId: 'PUB_KEY_ID_0000000000000024101100397200000006',
  timestamp: 1722850421,
  headers: {
    'wechatpay-serial': 'PUB_KEY_ID_0000000000000024101100397200000006',
    'wechatpay-timestamp': '1722850421',
    'wechatpay-nonce': 'd824f2e086d3c1df967785d13fcd22ef',
    'wechatpay-signature':
      'mfI1CPqvBrgcXfgXMFjdNIhBf27ACE2YyeWsWV9ZI7T7RU0vHvbQpu9Z32ogzc+k8ZC5n3kz7h70eWKjgqNdKQF0eRp8mVKlmfzMLBVHbssB9jEZEDXThOX1XFqX7s7ymia1hoHQxQagPGzkdWxtlZPZ4ZPvr1RiqkgAu6Is8MZgXXrRoBKqjmSdrP1N7uxzJ/cjfSiis9FiLjuADoqmQ1P7p2N876YPAol7Rn0+GswwAwxldbdLrmVSjfytfSBJFqTMHn4itojgxSWWN1byuckQt8hSTEv/Lg97QoeGniYP17T80pJeQyL3b+295FPHSO2AtvCgyIbKMZ0BALilAA==',
  } as HeaderBag,
  body: '{"code_url":"weixin://wxpay/bizpayurl?pr=JyC91EIz1"}',
  publicKey: `-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwXNI6sdlknHBnK8Fu2U6
Cwor9qY747jP8KAfeBMeveEt1TqaHkLfaSD07trZLhGpfs8/AHqjhgSMO1O10YQW
OrrJ4hjIWPKqxbgrYMkBQc+mwdiWp4W3ByCqxBRagCveCXRWCmuJYovl9H/bsDI0
iGbpVtEOghJtfciisYSgxcLufUDTRkvwxjIBK1pCRjk33jJ5YTBWTHMRtMAOcFLN
F6hdEYdX8SPsgHHeLZ5Lv2T/686w1xtgCHef/sd4uSfWmyzsalQdHG/e4IyYmrhx
+O3VBoNDzE3nx23bFeV/RVNCG7cV6VhmYokJNHa/erIPkEmEFID6A5wQOXuxUkmJ
WwIDAQAB
-----END PUBLIC KEY-----
`,
};

const vectorKeys = new SerialKeySource(
  { id: VECTOR.publicKeyId, key: createPublicKey(VECTOR.publicKey) },
  undefined,
);
/** The vector is from 2024: the verifier runs at its time, plus a few seconds. */
const atVectorTime =
  (offsetSeconds = 0) =>
  () =>
    (VECTOR.timestamp + offsetSeconds) * 1000;

async function failure(promise: Promise<void>): Promise<VerificationFailed> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof VerificationFailed) return error;
    throw error;
  }
  throw new Error('expected a VerificationFailed');
}

describe('WechatPaySignatureVerifier', () => {
  it('accepts the official public-key-mode example', async () => {
    const verifier = new WechatPaySignatureVerifier(vectorKeys, atVectorTime(3));
    await expect(verifier.verify(VECTOR.headers, Buffer.from(VECTOR.body))).resolves.toBeUndefined();
    // Header names arrive in any case from other HTTP stacks.
    const shouting = Object.fromEntries(
      Object.entries(VECTOR.headers).map(([name, value]) => [name.toUpperCase(), value]),
    );
    await expect(verifier.verify(shouting, Buffer.from(VECTOR.body))).resolves.toBeUndefined();
  });

  it('accepts the timestamp up to 300 s either way, and refuses it beyond', async () => {
    for (const offset of [-300, 300]) {
      await expect(
        new WechatPaySignatureVerifier(vectorKeys, atVectorTime(offset)).verify(
          VECTOR.headers,
          Buffer.from(VECTOR.body),
        ),
      ).resolves.toBeUndefined();
    }
    for (const offset of [-301, 301]) {
      const error = await failure(
        new WechatPaySignatureVerifier(vectorKeys, atVectorTime(offset)).verify(
          VECTOR.headers,
          Buffer.from(VECTOR.body),
        ),
      );
      expect(error.reason).toBe('timestamp');
    }
    // Today's clock: the vector is years old.
    expect(
      (
        await failure(
          new WechatPaySignatureVerifier(vectorKeys).verify(VECTOR.headers, Buffer.from(VECTOR.body)),
        )
      ).reason,
    ).toBe('timestamp');
  });

  it.each([
    ['one changed byte of the body', { body: VECTOR.body.replace('JyC91EIz1', 'JyC91EIz2') }, 'signature'],
    ['the body re-serialised', { body: JSON.stringify(JSON.parse(VECTOR.body), null, 1) }, 'signature'],
    ['the body without its last byte', { body: VECTOR.body.slice(0, -1) }, 'signature'],
    ['another signed timestamp', { headers: { 'wechatpay-timestamp': '1722850422' } }, 'signature'],
    ['another nonce', { headers: { 'wechatpay-nonce': 'd824f2e086d3c1df967785d13fcd22ee' } }, 'signature'],
    [
      'an unknown serial',
      { headers: { 'wechatpay-serial': 'PUB_KEY_ID_0000000000000024101100397200000007' } },
      'serial',
    ],
    ['no Wechatpay-Signature', { headers: { 'wechatpay-signature': undefined } }, 'header'],
    ['no Wechatpay-Serial', { headers: { 'wechatpay-serial': undefined } }, 'header'],
    ['no Wechatpay-Nonce', { headers: { 'wechatpay-nonce': '' } }, 'header'],
    ['no Wechatpay-Timestamp', { headers: { 'wechatpay-timestamp': undefined } }, 'header'],
    ['a timestamp that is not a number', { headers: { 'wechatpay-timestamp': '1722850421.0' } }, 'header'],
    ['a signature that is not base64', { headers: { 'wechatpay-signature': 'not base64!' } }, 'header'],
    [
      'another Signature-Type',
      { headers: { 'wechatpay-signature-type': 'WECHATPAY2-SM2-WITH-SM3' } },
      'header',
    ],
    [
      'a header sent twice',
      { headers: { 'wechatpay-serial': [VECTOR.publicKeyId, VECTOR.publicKeyId] } },
      'header',
    ],
  ])('refuses %s', async (_what, change: { body?: string; headers?: HeaderBag }, reason) => {
    const verifier = new WechatPaySignatureVerifier(vectorKeys, atVectorTime());
    const headers = {
      ...VECTOR.headers,
      'wechatpay-signature-type': 'WECHATPAY2-SHA256-RSA2048',
      ...change.headers,
    };
    const error = await failure(verifier.verify(headers, Buffer.from(change.body ?? VECTOR.body)));
    expect(error.reason).toBe(reason);
  });

  it('picks the key by serial in mixed mode: the public key by its id, certificates by theirs', async () => {
    const publicKeyPair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const certificatePair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const certificates = new StaticKeys([
      ['7132D72A03E93CDDF8C03BBD1F37EEDF40A3E0BE', certificatePair.publicKey],
    ]);
    const verifier = new WechatPaySignatureVerifier(
      new SerialKeySource(
        { id: 'PUB_KEY_ID_0114232134912410000000000000', key: publicKeyPair.publicKey },
        certificates,
      ),
    );
    const body = Buffer.from('{"prepay_id":"wx26112221580621e9b071c00d9e093b0000"}');
    const byPublicKey = signedHeaders(
      { serial: 'PUB_KEY_ID_0114232134912410000000000000', ...publicKeyPair },
      body,
    );
    const byCertificate = signedHeaders(
      { serial: '7132D72A03E93CDDF8C03BBD1F37EEDF40A3E0BE', ...certificatePair },
      body,
    );
    await expect(verifier.verify(byPublicKey, body)).resolves.toBeUndefined();
    await expect(verifier.verify(byCertificate, body)).resolves.toBeUndefined();
    // The right serial with the other key's signature.
    const crossed = { ...byCertificate, 'wechatpay-serial': 'PUB_KEY_ID_0114232134912410000000000000' };
    expect((await failure(verifier.verify(crossed, body))).reason).toBe('signature');
  });
});
