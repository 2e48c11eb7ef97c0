import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import { AppError } from '../../common/errors/app-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import { NodeWechatCrypto } from './node-wechat-crypto.js';

// WeChat's published sample (WXBizDataCrypt demo).
const VECTOR = {
  appId: 'wx4f4bc4dec97d474b',
  sessionKey: 'tiihtNczf5v6AKRyjwEUhQ==',
  iv: 'r7BXXKkLb8qrSNn05n0qiA==',
  encryptedData:
    'CiyLU1Aw2KjvrjMdj8YKliAjtP4gsMZMQmRzooG2xrDcvSnxIMXFufNstNGTyaGS9uT5geRa0W4oTOb1WT7fJlAC+oNPdbB+3hVbJSRgv+4lGOETKUQz6OYStslQ142dNCuabNPGBzlooOmB231qMM85d2/fV6ChevvXvQP8Hkue1poOFtnEtpyxVLW1zAo6/1Xx1COxFvrc2d7UL/lmHInNlxuacJXwu0fjpXfz/YqYzBIBzD6WUfTIF9GRHpOn/Hz7saL8xz+W//FRAUid1OksQaQx4CMs8LOddcQhULW4ucetDf96JcR3g0gfRK4PC7E/r7Z6xNrXd2UIeorGj5Ef7b1pJAYB6Y5anaHqZ9J6nKEBvB4DnNLIVWSgARns/8wR2SiRS7MNACwTyrGvt9ts8p12PKFdlqYTopNHR1Vf7XjfhQlVsAJdNiKdYmYVoKlaRv85IfVunYzO0IKXsyl7JCUjCpoG20f0a04COwfneQAGGwd5oa+T8yO5hzuyDb/XcxxmK01EpqOyuxINew==',
};

function encrypt(plain: string, sessionKey: string, iv: string): string {
  const cipher = createCipheriv('aes-128-cbc', Buffer.from(sessionKey, 'base64'), Buffer.from(iv, 'base64'));
  return Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]).toString('base64');
}

function codeOf(fn: () => unknown): ErrorCode | 'ok' {
  try {
    fn();
    return 'ok';
  } catch (error) {
    if (error instanceof AppError) return error.code;
    throw error;
  }
}

describe('NodeWechatCrypto', () => {
  const crypto = new NodeWechatCrypto();

  it("decrypts WeChat's published test vector", () => {
    expect(crypto.decryptData(VECTOR)).toEqual({
      openId: 'oGZUI0egBJY1zhBYw2KhdUfwVJJE',
      nickName: 'Band',
      gender: 1,
      language: 'zh_CN',
      city: 'Guangzhou',
      province: 'Guangdong',
      country: 'CN',
      avatarUrl:
        'http://wx.qlogo.cn/mmopen/vi_32/aSKcBBPpibyKNicHNTMM0qJVh8Kjgiak2AHWr8MHM4WgMEm7GFhsf8OYrySdbvAMvTsw3mo8ibKicsnfN5pRjl1p8HQ/0',
      unionId: 'ocMvos6NjeKLIBqg5Mr9QjxrP1FA',
      watermark: { timestamp: 1477314187, appid: 'wx4f4bc4dec97d474b' },
    });
  });

  it('answers 40104 for tampered data and for another session key', () => {
    const bytes = Buffer.from(VECTOR.encryptedData, 'base64');
    bytes[bytes.length - 1] ^= 0x01;
    expect(codeOf(() => crypto.decryptData({ ...VECTOR, encryptedData: bytes.toString('base64') }))).toBe(
      ErrorCode.WECHAT_SESSION_KEY_STALE,
    );
    const otherKey = randomBytes(16).toString('base64');
    expect(codeOf(() => crypto.decryptData({ ...VECTOR, sessionKey: otherKey }))).toBe(
      ErrorCode.WECHAT_SESSION_KEY_STALE,
    );
  });

  it('answers 40104 for plaintext that is not UTF-8 JSON, and for a session key of the wrong size', () => {
    const key = randomBytes(16).toString('base64');
    const iv = randomBytes(16).toString('base64');
    expect(
      codeOf(() =>
        crypto.decryptData({ ...VECTOR, sessionKey: key, iv, encryptedData: encrypt('not json', key, iv) }),
      ),
    ).toBe(ErrorCode.WECHAT_SESSION_KEY_STALE);
    const latin1 = Buffer.from([0x7b, 0xff, 0x7d]).toString('latin1');
    const cipher = createCipheriv('aes-128-cbc', Buffer.from(key, 'base64'), Buffer.from(iv, 'base64'));
    const nonUtf8 = Buffer.concat([cipher.update(Buffer.from(latin1, 'latin1')), cipher.final()]).toString(
      'base64',
    );
    expect(codeOf(() => crypto.decryptData({ ...VECTOR, sessionKey: key, iv, encryptedData: nonUtf8 }))).toBe(
      ErrorCode.WECHAT_SESSION_KEY_STALE,
    );
    expect(
      codeOf(() => crypto.decryptData({ ...VECTOR, sessionKey: randomBytes(8).toString('base64') })),
    ).toBe(ErrorCode.WECHAT_SESSION_KEY_STALE);
  });

  it('answers 40002 when the watermark names another app or is missing', () => {
    expect(codeOf(() => crypto.decryptData({ ...VECTOR, appId: 'wx0000000000000000' }))).toBe(
      ErrorCode.WECHAT_APPID_MISMATCH,
    );
    const key = randomBytes(16).toString('base64');
    const iv = randomBytes(16).toString('base64');
    const noWatermark = encrypt(JSON.stringify({ stepInfoList: [] }), key, iv);
    expect(
      codeOf(() =>
        crypto.decryptData({ appId: VECTOR.appId, sessionKey: key, iv, encryptedData: noWatermark }),
      ),
    ).toBe(ErrorCode.WECHAT_APPID_MISMATCH);
  });

  it('signs the session key for checkSession as WeChat documents', () => {
    const expected = createHmac('sha256', Buffer.from(VECTOR.sessionKey, 'utf8'))
      .update(Buffer.alloc(0))
      .digest('hex');
    expect(crypto.sessionKeySignature(VECTOR.sessionKey)).toBe(expected);
    expect(expected).toMatch(/^[0-9a-f]{64}$/);
  });
});
