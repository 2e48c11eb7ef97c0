import { createPrivateKey, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { RsaPaySigner } from './pay-signer.js';
import { RsaRequestSigner } from './request-signer.js';

/**
 * The test key WeChat Pay's documentation publishes for checking a signer (APIv3 rules, "签名生成"),
 * with its sign string and expected signature. A public test key: it signs nothing real.
 */
const OFFICIAL_TEST_KEY = `-----BEGIN RSA PRIVATE KEY-----
MIIEogIBAAKCAQEAptpm+qvIDCh/9wjU26SQCK26ogYkBhDrYxnAaw2JbbBsp1oD
bHKk+1r381NeBUG2HEFAuU+Fr72u5ot3yKdzoF/FajAzQNKnm569/D3upKoi8mYB
aST15Uig8j8qoUW1U217LL0jEHlSnHV3lcaDTXqDpTRR4Bfz9IqOgJgFZ8/oTfEo
mSrjrLYef81Eyxr7ZIMQXEKKEK7V4UXKS0+/fDsiG/cXidhzt8UbTL9vqXqxM2+I
DImyO+FAc/tkBG55LmzxPto1Nq0WbnZzRM/wTzrd0I/8NlevxtFbphg4evlHjFNI
7+GrqR87ViEwuAJJ9Je5QQjct5YJfFRWiZ5CMQIDAQABAoIBAGBi/GhEgezcHIg1
ltlHaFlLGuxsRbUnYwM9phVxnXk7GJlYe2/TjpERjPkIqOC6hBwwadZjJORP3FCc
Mtc8PKRhjuZ377O7vU0915x2nnyLOGL1IE2AJ3iLi0ZFzTea0FPgg+5lWHM00s9F
YI6qPcGtS41M+xtMWwZiYE3TBBRibHiY8ugGyaNAhiMKehyW05uApjlIF55wwCGx
BkyESJpGRR/6853iHke6Ge+xVcMa9QmQdoH0QqL/8kT28PL568mJJr0Ow/83t4+d
Pe70YPzKAxgUnaDsHJqO+b8qH69AEs8rTI5h2Mon6pH+bJT66KUoiXhn+Kf+4LSs
henRP10CgYEA1QJSfuFOWVRjrg3N/rAIc/Ak84BTZavbyrkqBSuoTs9i/nMI/hOz
VxpDntg7Bx2Tctl6sZO3GioTxKdc/YYaTKci1TKBbeginpsqEQVgwkMCy8HpvUmR
fyAMqLwZC4h9+j+NiZtuoFJDTCgv+WYbasX+kWYEUM21bnSYuO7yEQsCgYEAyIdP
r9uzqPgzN34Tmx+CNTa16VjhBh+zkBtXRLDLhWBeIYxoYNJARD98Pb1XZdvpkZZW
Sk7MfaKo2/DomzyyyB/MbHWwAdFi3yb4y7uMJfyC1MzdUSNN3Vp579hJxHkJ+nN4
Ys76yfcEeVOLnvUT1Z0KKCdIWRdT1Lgi+X1itzMCgYBJUXlPzwGG4fNFj97d0X23
Wmt9nSgXkOYgi0eZbAOMzPmIF9R6kBFk49dur4Lx2g5Ms+r1gKC/0sfnIqxxX11i
EQ1+UNoYGJUB/uql3TIG68XkmKR50P7RwRhaZBRC0gJ6xrFTMjsL2ATuC88niyvY
vrn3FiRaI9RVZrDCxwxvLQKBgEXW4okEAqGBuAzGqztmkOnJoTehDdYdKmOxMgap
cGiGdKJIjX3THDDoz3ONQyglnEZpTqpYoV3MTfU0BT8zt6x9bqwDnQY1D7NalmIW
cqw0Mri8lQQSQKcsQLWo5aA466G/n5kCL1Qx5OwAjesRvhOyuvvbGpZ0ymyWqQ+t
fLkDAoGATcul1L8y5D/wNVP1GXbXMZfBsFP3bbqy8c+Ashm6g8OLm2mGNntd5Z6h
1KkID7Yksh+dZ6t7XaPBtGACXX5Eryr537JVvdX8hAVCp5HVtaN/9VBVP8Ka2e4s
VS/xeNgOMQ7uzhRPBJ8HiTmdI1nHhDnYQpGiBgQn0Z5RAkSvFMk=
-----END RSA PRIVATE KEY-----
`;
const OFFICIAL_SIGNATURE =
  'Lc9VXxmeonkdV8Xk9tmigQFLhl0vRWTerdmoRu01aAnYwIrD/5nsSwE1WlmZGLRlAFTNQ3QsMa0+VRDlJp1Wp5p0nO8EK68b5sJBbjouxaFciIfq1zfDWWz+jqhcMoKXI1A6dPm1AW7D4d30WsMTNzp6g23OXakIsh9LO3lUmwvTuE0BY8ncf6tNGk4wKmvXwERd/ZpoQY3MAVKz+Nakwc+2XBmzT66KcUehU5kr4IvGa/lEU5RZb/q00zP9VLdBhC/jQSX3X1UcJLCtEc4gTmib4tnmAT+bHF/e17ZAuxDNcx6rqT8gNEXqaJGG+1OflMSTU2tpyG65G4dMKdFcoA==';

const officialKey = createPrivateKey(OFFICIAL_TEST_KEY);
const merchant = {
  mchid: '1900000001',
  serial: '5157F09EFDC096DE15EBE81A47057A7232F1B8E1',
  privateKey: officialKey,
};

function authorizationFields(header: string): Record<string, string> {
  const match = /^WECHATPAY2-SHA256-RSA2048 (.*)$/.exec(header);
  if (!match) throw new Error(`not a WeChat Pay Authorization header: ${header}`);
  const fields = match[1].split(',').map((part) => /^([a-z_]+)="([^"]*)"$/.exec(part));
  return Object.fromEntries(fields.map((pair) => [pair![1], pair![2]]));
}

describe('RsaRequestSigner', () => {
  it('signs the documented request exactly as the official vector says', () => {
    const signer = new RsaRequestSigner(merchant);
    expect(
      signer.signature(
        'GET',
        '/v3/refund/domestic/refunds/123123123123',
        '1554208460',
        '593BEC0C930BF1AFEB40B4A08C8FB242',
        '',
      ),
    ).toBe(OFFICIAL_SIGNATURE);
  });

  it('writes the Authorization header with a fresh nonce and the clock, signed over the exact body', () => {
    const signer = new RsaRequestSigner(merchant, () => 1_554_208_460_999);
    const body = '{"mchid":"1900000001","note":"退款"}';
    const header = signer.authorization('POST', '/v3/refund/domestic/refunds', body);
    const fields = authorizationFields(header);
    expect(Object.keys(fields)).toEqual(['mchid', 'nonce_str', 'timestamp', 'serial_no', 'signature']);
    expect(fields).toMatchObject({
      mchid: '1900000001',
      timestamp: '1554208460',
      serial_no: merchant.serial,
    });
    expect(fields.nonce_str).toMatch(/^[A-Za-z0-9]{32}$/);
    const message = `POST\n/v3/refund/domestic/refunds\n1554208460\n${fields.nonce_str}\n${body}\n`;
    expect(
      verify(
        'sha256',
        Buffer.from(message),
        createPublicKey(officialKey),
        Buffer.from(fields.signature, 'base64'),
      ),
    ).toBe(true);
    expect(
      authorizationFields(signer.authorization('POST', '/v3/refund/domestic/refunds', body)).nonce_str,
    ).not.toBe(fields.nonce_str);
  });
});

describe('RsaPaySigner', () => {
  it('signs appId\\ntimeStamp\\nnonceStr\\npackage\\n with the merchant key for wx.requestPayment', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const params = new RsaPaySigner('wx1234567890abcdef', privateKey, () => 1_700_000_000_123).payParams(
      'wx201410272009395522657a690389285100',
    );
    expect(Object.keys(params).sort()).toEqual(['nonceStr', 'package', 'paySign', 'signType', 'timeStamp']);
    expect(params).toMatchObject({
      timeStamp: '1700000000',
      package: 'prepay_id=wx201410272009395522657a690389285100',
      signType: 'RSA',
    });
    expect(params.nonceStr).toMatch(/^[A-Za-z0-9]{32}$/);
    const message = `wx1234567890abcdef\n1700000000\n${params.nonceStr}\nprepay_id=wx201410272009395522657a690389285100\n`;
    expect(verify('sha256', Buffer.from(message), publicKey, Buffer.from(params.paySign, 'base64'))).toBe(
      true,
    );
  });
});
