import {
  OaCallbackBuilder,
  SAMPLE_APP_ID,
  SAMPLE_ENCODING_AES_KEY,
  SAMPLE_TOKEN,
  cdata,
  decryptMessage,
  encryptMessage,
  msgSignature,
  plainSignature,
  readXmlFields,
} from '../support/oa-callback-builder.js';

// The helper the callback tests build WeChat's requests with: it must be WeChat, byte for byte, so it
// is held to the published vectors (wechatpy's signature test, Tencent's WXBizMsgCrypt sample).

const SAMPLE_ENCRYPT =
  'hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE=';
const SAMPLE_XML =
  '<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>\n<FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>\n<CreateTime>1409735668</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[abcdteT]]></Content>\n<MsgId>6054768590064713728</MsgId>\n</xml>';

describe('OaCallbackBuilder', () => {
  it('signs as WeChat does (the plain signature vector), a changed digit failing', () => {
    expect(plainSignature('test', 1410685589, 'test')).toBe('f21891de399b4e33a1a93c9a7b8a8fffb5a443ff');
    expect(plainSignature('test', 1410685589, 'test')).not.toBe('f21891de399b4e33a1a93c9a7b8a8fffb5a443fe');
  });

  it("reproduces Tencent's sample: its msg_signature, its decryption, and its ciphertext from the same prefix", () => {
    expect(msgSignature(SAMPLE_TOKEN, 1409735669, '1320562132', SAMPLE_ENCRYPT)).toBe(
      '5d197aaffba7e9b25a30732f161a50dee96bd5fa',
    );
    const inner = decryptMessage(SAMPLE_ENCRYPT, SAMPLE_ENCODING_AES_KEY);
    expect(inner.random.toString('latin1')).toBe('89465c840c5f116f');
    expect(inner.xml).toBe(SAMPLE_XML);
    expect(Buffer.byteLength(inner.xml)).toBe(280);
    expect(inner.appId).toBe(SAMPLE_APP_ID);
    expect(inner.pad).toBe(2);
    const again = encryptMessage(SAMPLE_XML, {
      encodingAesKey: SAMPLE_ENCODING_AES_KEY,
      appId: SAMPLE_APP_ID,
      random: Buffer.from('89465c840c5f116f', 'latin1'),
    });
    expect(again).toBe(SAMPLE_ENCRYPT);
  });

  it('pads to 32-byte blocks: every pad length 1–32 round-trips', () => {
    const pads = new Set<number>();
    for (let extra = 0; extra < 32; extra++) {
      const xml = `<xml><Content>${'x'.repeat(extra)}</Content></xml>`;
      const encrypt = encryptMessage(xml, { encodingAesKey: SAMPLE_ENCODING_AES_KEY, appId: SAMPLE_APP_ID });
      const inner = decryptMessage(encrypt, SAMPLE_ENCODING_AES_KEY);
      expect([inner.xml, inner.appId]).toEqual([xml, SAMPLE_APP_ID]);
      pads.add(inner.pad);
    }
    expect([...pads].sort((a, b) => a - b)).toEqual(Array.from({ length: 32 }, (_, i) => i + 1));
  });

  it('builds the GET check with a fresh timestamp and nonce, echostr as given', () => {
    const oa = new OaCallbackBuilder({ token: SAMPLE_TOKEN });
    const a = oa.verify('hello');
    const b = oa.verify('hello');
    expect(a.method).toBe('GET');
    expect(a.query.echostr).toBe('hello');
    expect(Math.abs(Number(a.query.timestamp) - Date.now() / 1000)).toBeLessThan(5);
    expect(a.query.nonce).toMatch(/^\d+$/);
    expect(a.nonce).not.toBe(b.nonce);
    expect(a.query.signature).toBe(plainSignature(SAMPLE_TOKEN, a.timestamp, a.nonce));
    expect(a.path.startsWith('/api/v1/wechat/official/callback?')).toBe(true);
    expect(Object.fromEntries(new URL(a.path, 'http://x').searchParams)).toEqual(a.query);
  });

  it('builds plaintext, compatible and safe POSTs as WeChat sends them', () => {
    const oa = new OaCallbackBuilder({ token: SAMPLE_TOKEN, encodingAesKey: SAMPLE_ENCODING_AES_KEY });
    const xml = oa.text({ from: 'o_alice', content: 'hi ]]> there' });
    expect(readXmlFields(xml)).toMatchObject({
      ToUserName: 'gh_10f6c3c3ac5a',
      FromUserName: 'o_alice',
      MsgType: 'text',
      Content: 'hi ]]> there',
    });
    expect(readXmlFields(xml).MsgId).toMatch(/^\d{19}$/);

    const plain = oa.plaintext(xml);
    expect(plain.body).toBe(xml);
    expect(plain.query).toEqual({
      signature: plainSignature(SAMPLE_TOKEN, plain.timestamp, plain.nonce),
      timestamp: plain.timestamp,
      nonce: plain.nonce,
      openid: 'o_alice',
    });

    const safe = oa.safe(xml);
    expect(Object.keys(readXmlFields(safe.body!))).toEqual(['ToUserName', 'Encrypt']);
    expect(safe.query.encrypt_type).toBe('aes');
    expect(safe.query.msg_signature).toBe(
      msgSignature(SAMPLE_TOKEN, safe.timestamp, safe.nonce, safe.encrypt!),
    );
    expect(decryptMessage(safe.encrypt!, SAMPLE_ENCODING_AES_KEY).xml).toBe(xml);

    const compatible = oa.compatible(xml, { siblings: oa.text({ from: 'o_mallory', content: 'forged' }) });
    const fields = readXmlFields(compatible.body!);
    expect(fields.Content).toBe('forged');
    expect(decryptMessage(fields.Encrypt, SAMPLE_ENCODING_AES_KEY).xml).toBe(xml);
  });

  it('overrides what the refusal tests need: replayed nonce, old timestamp, wrong signature, another app id', () => {
    const oa = new OaCallbackBuilder({ encodingAesKey: SAMPLE_ENCODING_AES_KEY });
    const xml = oa.event({ from: 'o_bob', event: 'subscribe', eventKey: 'qrscene_42' });
    const first = oa.safe(xml);
    const replay = oa.safe(xml, { nonce: first.nonce, timestamp: first.timestamp });
    expect([replay.query.nonce, replay.query.timestamp]).toEqual([first.nonce, first.timestamp]);
    expect(oa.plaintext(xml, { timestamp: 1409735669 }).query.timestamp).toBe('1409735669');
    expect(oa.plaintext(xml, { omit: ['signature'] }).query.signature).toBeUndefined();
    expect(oa.plaintext(xml, { signature: 'f'.repeat(40) }).query.signature).toBe('f'.repeat(40));
    const foreign = oa.safe(xml, { appId: 'wx0000000000000000' });
    expect(decryptMessage(foreign.encrypt!, SAMPLE_ENCODING_AES_KEY).appId).toBe('wx0000000000000000');
    const published = oa.compatible(SAMPLE_XML, { encrypt: SAMPLE_ENCRYPT });
    expect(published.query.msg_signature).toBe(
      msgSignature(SAMPLE_TOKEN, published.timestamp, published.nonce, SAMPLE_ENCRYPT),
    );
  });

  it('reads replies: success, plaintext, and an encrypted one checked like WeChat', () => {
    const oa = new OaCallbackBuilder({ encodingAesKey: SAMPLE_ENCODING_AES_KEY });
    const request = oa.safe(oa.text({ from: 'o_carol', content: 'hi' }));
    expect(oa.readReply('success', request)).toEqual({ kind: 'success' });

    const replyXml = `<xml><ToUserName>${cdata('o_carol')}</ToUserName><Content>${cdata('a]]>b')}</Content></xml>`;
    expect(oa.readReply(replyXml, request)).toMatchObject({ kind: 'plain', fields: { Content: 'a]]>b' } });

    const encrypt = oa.encrypt(replyXml);
    const wrap = (nonce: string, signature = msgSignature(SAMPLE_TOKEN, '1700000000', nonce, encrypt)) =>
      `<xml><Encrypt>${cdata(encrypt)}</Encrypt><MsgSignature>${cdata(signature)}</MsgSignature>` +
      `<TimeStamp>1700000000</TimeStamp><Nonce>${cdata(nonce)}</Nonce></xml>`;
    expect(oa.readReply(wrap(request.nonce), request)).toMatchObject({
      kind: 'encrypted',
      xml: replyXml,
      fields: { ToUserName: 'o_carol', Content: 'a]]>b' },
    });
    expect(() => oa.readReply(wrap('1'), request)).toThrow(/Nonce/);
    expect(() => oa.readReply(wrap(request.nonce, '0'.repeat(40)), request)).toThrow(/MsgSignature/);
  });
});
