import { createCipheriv, createDecipheriv } from 'node:crypto';
import { callbackSignature, signatureMatches } from './callback-signature.js';
import { CallbackVerifier, type CallbackQuery } from './callback-verifier.js';
import { MemorySeenKeys } from './seen-keys.js';
import { MessageDecryptError, WxBizMsgCrypt } from './wx-biz-msg-crypt.js';

// wechatpy's check_signature test, re-computed with sha1.
const PLAIN = {
  token: 'test',
  timestamp: '1410685589',
  nonce: 'test',
  signature: 'f21891de399b4e33a1a93c9a7b8a8fffb5a443ff',
};

// Tencent's WXBizMsgCrypt demo (Sample.py), compatible mode.
const SAMPLE = {
  encodingAesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
  token: 'spamtest',
  appId: 'wx2c2769f8efd9abc2',
  timestamp: '1409735669',
  nonce: '1320562132',
  msgSignature: '5d197aaffba7e9b25a30732f161a50dee96bd5fa',
  encrypt:
    'hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE=',
  plaintextXml:
    '<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>\n<FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>\n<CreateTime>1409735668</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[abcdteT]]></Content>\n<MsgId>6054768590064713728</MsgId>\n</xml>',
};

const sampleBody = () =>
  Buffer.from(
    '<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName><CreateTime>1409735668</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[abcdteT]]></Content><MsgId>6054768590064713728</MsgId>' +
      `<Encrypt><![CDATA[${SAMPLE.encrypt}]]></Encrypt></xml>`,
  );

/** The raw plaintext (prefix, length, message, app id, padding) of an `Encrypt` value. */
function rawPlaintext(encodingAesKey: string, encrypt: string): Buffer {
  const key = Buffer.from(`${encodingAesKey}=`, 'base64');
  const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
  return Buffer.concat([decipher.update(Buffer.from(encrypt, 'base64')), decipher.final()]);
}

describe('callback signatures', () => {
  it('the plain signature vector checks out, and one wrong digit fails', () => {
    const expected = callbackSignature([PLAIN.token, PLAIN.timestamp, PLAIN.nonce]);
    expect(expected).toBe(PLAIN.signature);
    expect(signatureMatches(expected, PLAIN.signature)).toBe(true);
    expect(signatureMatches(expected, 'f21891de399b4e33a1a93c9a7b8a8fffb5a443fe')).toBe(false);
  });

  it('a missing, repeated, upper-case or shorter signature is wrong', () => {
    const expected = callbackSignature([PLAIN.token, PLAIN.timestamp, PLAIN.nonce]);
    expect(signatureMatches(expected, undefined)).toBe(false);
    expect(signatureMatches(expected, [PLAIN.signature, PLAIN.signature])).toBe(false);
    expect(signatureMatches(expected, PLAIN.signature.toUpperCase())).toBe(false);
    expect(signatureMatches(expected, PLAIN.signature.slice(0, 39))).toBe(false);
    expect(signatureMatches(expected, '')).toBe(false);
  });

  it("Sample.py's msg_signature covers token, timestamp, nonce and Encrypt", () => {
    expect(callbackSignature([SAMPLE.token, SAMPLE.timestamp, SAMPLE.nonce, SAMPLE.encrypt])).toBe(
      SAMPLE.msgSignature,
    );
  });
});

describe("Tencent's Sample.py through the callback's own checks", () => {
  const settings = {
    enabled: true,
    appId: SAMPLE.appId,
    token: SAMPLE.token,
    encodingAesKey: SAMPLE.encodingAesKey,
    welcomeText: null,
  };
  // At the sample's own time, so that its 2014 timestamp is inside the window.
  const at = Number(SAMPLE.timestamp) * 1000;
  const query = (): CallbackQuery => ({
    signature: callbackSignature([SAMPLE.token, SAMPLE.timestamp, SAMPLE.nonce]),
    timestamp: SAMPLE.timestamp,
    nonce: SAMPLE.nonce,
    encrypt_type: 'aes',
    msg_signature: SAMPLE.msgSignature,
    openid: 'ignored',
  });

  it('decrypts to the published message: prefix, length 280, the XML, the app id, padding 02 02', async () => {
    const verifier = new CallbackVerifier(settings, new MemorySeenKeys(600, () => at), () => at);
    const verified = await verifier.verifyPost(query(), sampleBody());
    expect(verified.mode).toBe('aes');
    expect(verified.xml).toMatchObject({
      ToUserName: 'gh_10f6c3c3ac5a',
      FromUserName: 'oyORnuP8q7ou2gfYjqLzSIWZf0rs',
      CreateTime: '1409735668',
      MsgType: 'text',
      Content: 'abcdteT',
      MsgId: '6054768590064713728',
    });
    expect(new WxBizMsgCrypt(SAMPLE.encodingAesKey, SAMPLE.appId).decrypt(SAMPLE.encrypt)).toBe(
      SAMPLE.plaintextXml,
    );

    const raw = rawPlaintext(SAMPLE.encodingAesKey, SAMPLE.encrypt);
    expect(raw.subarray(0, 16).toString('ascii')).toBe('89465c840c5f116f');
    expect(raw.readUInt32BE(16)).toBe(280);
    expect(raw.subarray(20, 300).toString('utf8')).toBe(SAMPLE.plaintextXml);
    expect(raw.subarray(300, 318).toString('ascii')).toBe(SAMPLE.appId);
    expect([...raw.subarray(318)]).toEqual([2, 2]);
  });

  it('the same ciphertext for another app id is refused (the account check)', async () => {
    const verifier = new CallbackVerifier(
      { ...settings, appId: 'wx0000000000000000' },
      new MemorySeenKeys(600, () => at),
      () => at,
    );
    await expect(verifier.verifyPost(query(), sampleBody())).rejects.toMatchObject({
      status: 400,
      text: 'bad request',
    });
  });
});

describe('WxBizMsgCrypt round trips', () => {
  const appId = 'wx1234567890abcdef';
  const crypt = new WxBizMsgCrypt(SAMPLE.encodingAesKey, appId);
  // 16 prefix + 4 length + appId (18) = 38 bytes besides the message.
  const overhead = 16 + 4 + appId.length;

  it.each(Array.from({ length: 32 }, (_, i) => i + 1))('pad length %i', (pad) => {
    // A message length that leaves exactly `pad` bytes to the next multiple of 32.
    const length = ((((-overhead - pad) % 32) + 32) % 32) + 32;
    const message = `<xml>${'a'.repeat(length - 11)}</xml>`;
    const encrypt = crypt.encrypt(message);
    const raw = rawPlaintext(SAMPLE.encodingAesKey, encrypt);
    expect(raw.length % 32).toBe(0);
    expect(raw.length).toBe(overhead + length + pad);
    expect([...raw.subarray(raw.length - pad)]).toEqual(Array(pad).fill(pad));
    expect(crypt.decrypt(encrypt)).toBe(message);
  });

  it('multi-byte text, and a fresh random prefix every time', () => {
    const xml = '<xml><Content><![CDATA[你好，世界 🌏]]></Content></xml>';
    const a = crypt.encrypt(xml);
    const b = crypt.encrypt(xml);
    expect(a).not.toBe(b);
    expect(rawPlaintext(SAMPLE.encodingAesKey, a).subarray(0, 16).toString('ascii')).toMatch(
      /^[A-Za-z0-9]{16}$/,
    );
    expect(crypt.decrypt(a)).toBe(xml);
    expect(crypt.decrypt(b)).toBe(xml);
  });

  it('a 16-byte PKCS#7 padder’s output still decrypts (pad values 1-16 are valid ones of 32)', () => {
    const prefix = Buffer.from('0123456789abcdef');
    const message = Buffer.from('<xml/>');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(message.length);
    const body = Buffer.concat([prefix, length, message, Buffer.from(appId)]);
    const pad = 16 - (body.length % 16);
    const key = Buffer.from(`${SAMPLE.encodingAesKey}=`, 'base64');
    const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
    const padded = Buffer.concat([body, Buffer.alloc(pad, pad)]);
    const encrypt = Buffer.concat([cipher.update(padded), cipher.final()]).toString('base64');
    expect(crypt.decrypt(encrypt)).toBe('<xml/>');
  });

  it('refuses what is not a message of this app', () => {
    const good = crypt.encrypt('<xml/>');
    const other = new WxBizMsgCrypt(SAMPLE.encodingAesKey, 'wxffffffffffffffff').encrypt('<xml/>');
    const otherKey = new WxBizMsgCrypt('A'.repeat(43), appId).encrypt('<xml/>');
    const bytes = Buffer.from(good, 'base64');
    bytes[bytes.length - 1] ^= 0x01;
    for (const encrypt of [
      other,
      otherKey,
      bytes.toString('base64'),
      good.slice(0, -4),
      'not base64!',
      '',
      'AAAA',
    ]) {
      expect(() => crypt.decrypt(encrypt)).toThrow(MessageDecryptError);
    }
  });

  it('refuses an EncodingAESKey that is not 43 characters of A-Za-z0-9', () => {
    expect(() => new WxBizMsgCrypt('short', appId)).toThrow(/43 characters/);
    expect(() => new WxBizMsgCrypt(`${'a'.repeat(42)}+`, appId)).toThrow(/43 characters/);
  });
});
