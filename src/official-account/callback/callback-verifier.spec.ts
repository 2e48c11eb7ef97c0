import { AppError } from '../../common/errors/app-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import type { OfficialAccountSettings } from '../official-account-settings.js';
import { callbackSignature } from './callback-signature.js';
import { CallbackVerifier, type CallbackQuery } from './callback-verifier.js';
import { MemorySeenKeys, SeenKeys } from './seen-keys.js';
import { WxBizMsgCrypt } from './wx-biz-msg-crypt.js';

const NOW = 1_800_000_000_000;
const TS = String(NOW / 1000);
const SETTINGS: OfficialAccountSettings = {
  enabled: true,
  appId: 'wx1234567890abcdef',
  token: 'callbackToken1',
  encodingAesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
  welcomeText: null,
};
const crypt = new WxBizMsgCrypt(SETTINGS.encodingAesKey!, SETTINGS.appId);
const MESSAGE =
  '<xml><FromUserName><![CDATA[o1]]></FromUserName><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[inner]]></Content></xml>';

let nonceSeq = 0;
function signed(
  extra: CallbackQuery = {},
  options: { timestamp?: string; nonce?: string } = {},
): CallbackQuery {
  const timestamp = options.timestamp ?? TS;
  const nonce = options.nonce ?? String(++nonceSeq);
  return { signature: callbackSignature([SETTINGS.token, timestamp, nonce]), timestamp, nonce, ...extra };
}

/** A safe-mode query and body for `encrypt`, msg_signature over it. */
function aes(encrypt: string, options: { timestamp?: string; nonce?: string; siblings?: string } = {}) {
  const query = signed({ encrypt_type: 'aes' }, options);
  query.msg_signature = callbackSignature([
    SETTINGS.token,
    String(query.timestamp),
    String(query.nonce),
    encrypt,
  ]);
  const body = Buffer.from(
    `<xml><ToUserName><![CDATA[gh_1]]></ToUserName>${options.siblings ?? ''}<Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`,
  );
  return { query, body };
}

const verifier = (
  settings: Partial<OfficialAccountSettings> = {},
  nonces: SeenKeys = new MemorySeenKeys(600, () => NOW),
) => new CallbackVerifier({ ...SETTINGS, ...settings }, nonces, () => NOW);

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'passed';
  } catch (error) {
    const e = error as { status?: number; text?: string };
    return `${e.status} ${e.text}`;
  }
}

class DownNonces extends SeenKeys {
  firstTime(): Promise<boolean> {
    return Promise.reject(new AppError(ErrorCode.DEPENDENCY_UNAVAILABLE));
  }
}

describe('CallbackVerifier: the checks in order, the first failure deciding', () => {
  it('plaintext: a signed message passes; the query openid and encrypt_type=raw change nothing', async () => {
    const v = verifier();
    const plain = await v.verifyPost(signed({ openid: 'x' }), Buffer.from(MESSAGE));
    expect(plain).toMatchObject({ mode: 'plain', xml: { Content: 'inner' } });
    expect((await v.verifyPost(signed({ encrypt_type: 'raw' }), Buffer.from(MESSAGE))).mode).toBe('plain');
  });

  it('signature first: wrong, missing or signed with another token, whatever else is wrong', async () => {
    const v = verifier();
    const query = signed({}, { timestamp: '1' });
    expect(
      await refusal(v.verifyPost({ ...query, signature: 'f'.repeat(40) }, Buffer.from('<!DOCTYPE x>'))),
    ).toBe('401 invalid signature');
    const { signature: _dropped, ...unsigned } = signed();
    expect(await refusal(v.verifyPost(unsigned, Buffer.from(MESSAGE)))).toBe('401 invalid signature');
    expect(await refusal(verifier({ token: 'otherToken' }).verifyPost(signed(), Buffer.from(MESSAGE)))).toBe(
      '401 invalid signature',
    );
    expect(await refusal(v.verifyGet({ ...signed({ echostr: 'e' }), signature: undefined }))).toBe(
      '401 invalid signature',
    );
  });

  it('then the XML: malformed or with a DOCTYPE is 400 even with a stale timestamp and a bad encrypt_type', async () => {
    const v = verifier();
    const stale = { timestamp: String(NOW / 1000 - 301) };
    expect(await refusal(v.verifyPost(signed({}, stale), Buffer.from('<xml><a></xml>')))).toBe(
      '400 bad request',
    );
    expect(
      await refusal(v.verifyPost(signed({ encrypt_type: 'des' }, stale), Buffer.from('<!DOCTYPE x><xml/>'))),
    ).toBe('400 bad request');
  });

  it('then aes: no key, another encrypt_type or no Encrypt is 400; a wrong msg_signature 401 — before the timestamp', async () => {
    const stale = { timestamp: '1' };
    const { query, body } = aes(crypt.encrypt(MESSAGE), stale);
    expect(await refusal(verifier({ encodingAesKey: null }).verifyPost(query, body))).toBe('400 bad request');
    expect(await refusal(verifier().verifyPost({ ...query, encrypt_type: 'AES' }, body))).toBe(
      '400 bad request',
    );
    expect(await refusal(verifier().verifyPost({ ...query, encrypt_type: ['aes', 'aes'] }, body))).toBe(
      '400 bad request',
    );
    expect(await refusal(verifier().verifyPost(query, Buffer.from('<xml><Content>x</Content></xml>')))).toBe(
      '400 bad request',
    );
    expect(await refusal(verifier().verifyPost({ ...query, msg_signature: '0'.repeat(40) }, body))).toBe(
      '401 invalid signature',
    );
    const { msg_signature: _gone, ...noMsgSignature } = query;
    expect(await refusal(verifier().verifyPost(noMsgSignature, body))).toBe('401 invalid signature');
    expect(await refusal(verifier().verifyPost(query, body))).toBe('401 expired timestamp');
  });

  it('then the timestamp: an integer within ±300 s', async () => {
    const v = verifier();
    const now = NOW / 1000;
    for (const timestamp of [String(now - 300), String(now + 300), `0${now}`]) {
      expect(await refusal(v.verifyPost(signed({}, { timestamp }), Buffer.from(MESSAGE)))).toBe('passed');
    }
    for (const timestamp of [
      String(now - 301),
      String(now + 301),
      '',
      `${now}.0`,
      `+${now}`,
      ` ${now}`,
      '1e9',
      'abc',
    ]) {
      expect(await refusal(v.verifyPost(signed({}, { timestamp }), Buffer.from(MESSAGE)))).toBe(
        '401 expired timestamp',
      );
    }
  });

  it('then the nonce: a (timestamp, nonce) seen within 600 s is a replay, even after a refused decryption', async () => {
    const nonces = new MemorySeenKeys(600, () => NOW);
    const v = verifier({}, nonces);
    const first = signed({}, { nonce: '42' });
    expect(await refusal(v.verifyPost(first, Buffer.from(MESSAGE)))).toBe('passed');
    expect(await refusal(v.verifyPost(first, Buffer.from(MESSAGE)))).toBe('401 replayed nonce');
    // The same nonce with another timestamp is another pair.
    expect(
      await refusal(
        v.verifyPost(signed({}, { nonce: '42', timestamp: String(NOW / 1000 - 1) }), Buffer.from(MESSAGE)),
      ),
    ).toBe('passed');
    const broken = aes(
      crypt.encrypt(MESSAGE).replace(/^./, (c) => (c === 'A' ? 'B' : 'A')),
      { nonce: '43' },
    );
    expect(await refusal(v.verifyPost(broken.query, broken.body))).toBe('400 bad request');
    expect(await refusal(v.verifyPost(broken.query, broken.body))).toBe('401 replayed nonce');
    // GET shares the window.
    expect(await refusal(v.verifyGet({ ...signed({}, { nonce: '42' }), echostr: 'e' }))).toBe(
      '401 replayed nonce',
    );
  });

  it('the shared nonce store unreachable: 503 unavailable', async () => {
    expect(await refusal(verifier({}, new DownNonces()).verifyPost(signed(), Buffer.from(MESSAGE)))).toBe(
      '503 unavailable',
    );
    expect(await refusal(verifier({}, new DownNonces()).verifyGet(signed({ echostr: 'e' })))).toBe(
      '503 unavailable',
    );
  });

  it('last, aes: the decrypted message must be this app’s and well-formed', async () => {
    const other = new WxBizMsgCrypt(SETTINGS.encodingAesKey!, 'wxffffffffffffffff');
    for (const encrypt of [
      other.encrypt(MESSAGE),
      crypt.encrypt('<!DOCTYPE x [<!ENTITY a "b">]><xml>&a;</xml>'),
      crypt.encrypt('not xml'),
      crypt.encrypt('<other/>'),
      'AAAA',
    ]) {
      const { query, body } = aes(encrypt);
      expect(await refusal(verifier().verifyPost(query, body))).toBe('400 bad request');
    }
  });

  it('compatible and safe mode: only the decrypted message counts, plaintext siblings are ignored', async () => {
    const { query, body } = aes(crypt.encrypt(MESSAGE), {
      siblings:
        '<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[forged]]></Content><FromUserName>o_forged</FromUserName>',
    });
    const verified = await verifier().verifyPost(query, body);
    expect(verified).toMatchObject({
      mode: 'aes',
      nonce: query.nonce,
      xml: { Content: 'inner', FromUserName: 'o1' },
    });
  });

  it('GET: echostr verbatim, 1 to 128 characters, checked after the nonce; msg_signature plays no part', async () => {
    const v = verifier();
    expect(
      await v.verifyGet(signed({ echostr: '5678901234567890', msg_signature: 'junk', encrypt_type: 'aes' })),
    ).toBe('5678901234567890');
    expect(await v.verifyGet(signed({ echostr: '你'.repeat(128) }))).toBe('你'.repeat(128));
    expect(await v.verifyGet(signed({ echostr: ' a+b&c ' }))).toBe(' a+b&c ');
    for (const echostr of ['', 'x'.repeat(129), undefined, ['a', 'b']]) {
      expect(await refusal(v.verifyGet(signed({ echostr })))).toBe('400 bad request');
    }
    expect(await refusal(v.verifyGet(signed({ echostr: '' }, { timestamp: '5' })))).toBe(
      '401 expired timestamp',
    );
  });
});
