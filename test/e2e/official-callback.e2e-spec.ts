/**
 * The official account's callback end to end (GET and POST /api/v1/wechat/official/callback) and
 * the admin's keyword rules, live against the fake WeChat: every check of the contract in its
 * order with its answer, the three modes with encrypted replies, WeChat's retries and replayed
 * nonces, a slow handler answered in time and its reply sent afterwards, subscribe → follower →
 * welcome, the auto-reply rules, erasure, and the routes answering 404 without an official account.
 */
import type { Response } from 'supertest';
import { FollowersService } from '../../src/official-account/followers/followers.service.js';
import { OfficialMessageHandlers } from '../../src/official-account/callback/message-handlers.js';
import { CallbackTiming } from '../../src/official-account/callback/official-callback.service.js';
import type { OfficialMessage } from '../../src/official-account/callback/official-message.js';
import {
  expectError,
  expectOk,
  expectValidationError,
  startHarness,
  type Harness,
} from '../support/app-harness.js';
import { OFFICIAL_APP_ID, OFFICIAL_APP_SECRET } from '../support/fake-wechat-http-api.js';
import { OaCallbackBuilder, type CallbackRequest } from '../support/oa-callback-builder.js';
import { TcpProxy } from '../support/tcp-proxy.js';

const TOKEN = 'e2eCallbackToken42';
const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
const WELCOME = 'Welcome! ]]> 欢迎关注';
const ADMIN_RULES = '/api/v1/admin/official/auto-replies';
const PLAIN = 'text/plain; charset=utf-8';
const XML = 'text/xml; charset=utf-8';

let openidSeq = 0;
const newOpenid = () => `o_e2e_follower_${process.pid}_${++openidSeq}`;

const OA_ENV = {
  WECHAT_OA_APP_ID: OFFICIAL_APP_ID,
  WECHAT_OA_APP_SECRET: OFFICIAL_APP_SECRET,
  WECHAT_OA_TOKEN: TOKEN,
  WECHAT_OA_ENCODING_AES_KEY: AES_KEY,
  WECHAT_OA_WELCOME_TEXT: WELCOME,
};

function send(h: Harness, req: CallbackRequest, contentType = req.contentType): Promise<Response> {
  if (req.method === 'GET') return h.http().get(req.path);
  return h
    .http()
    .post(req.path)
    .set('Content-Type', contentType)
    .send(req.body ?? '');
}

/** A refusal: its status and its plain-text answer, outside the envelope. */
function expectRefusal(res: Response, status: number, text: string): void {
  expect({ status: res.status, text: res.text }).toEqual({ status, text });
  expect(res.headers['content-type']).toBe(PLAIN);
}

function expectSuccess(res: Response): void {
  expect({ status: res.status, text: res.text }).toEqual({ status: 200, text: 'success' });
  expect(res.headers['content-type']).toBe(PLAIN);
}

describe('official account callback', () => {
  let h: Harness;
  let oa: OaCallbackBuilder;
  let admin: string;

  beforeAll(async () => {
    h = await startHarness({ env: OA_ENV });
    oa = new OaCallbackBuilder({ token: TOKEN, encodingAesKey: AES_KEY, appId: OFFICIAL_APP_ID });
    admin = (await h.loginAdmin()).bearer;
  });
  afterAll(() => h?.close());

  const rule = async (body: Record<string, unknown>) =>
    expectOk(await h.http().post(ADMIN_RULES).set('Authorization', admin).send(body), 201);

  /** The reply to a text message in `mode`, read as WeChat would. */
  async function textReply(content: string, mode: 'plaintext' | 'compatible' | 'safe' = 'plaintext') {
    const req = oa[mode](oa.text({ from: newOpenid(), content }));
    const res = await send(h, req);
    expect(res.status).toBe(200);
    const reply = oa.readReply(res.text, req);
    return reply.kind === 'success' ? null : reply.fields.Content;
  }

  describe('GET (the URL check)', () => {
    it('answers echostr exactly as received, text/plain', async () => {
      for (const echostr of ['5837397520665436492', 'a b+c&d=é', 'x'.repeat(128)]) {
        const res = await send(h, oa.verify(echostr));
        expect({ status: res.status, text: res.text }).toEqual({ status: 200, text: echostr });
        expect(res.headers['content-type']).toBe(PLAIN);
      }
    });

    it('refuses in the order of the checks', async () => {
      expectRefusal(
        await send(h, oa.verify('e', { signature: 'f'.repeat(40), timestamp: 1 })),
        401,
        'invalid signature',
      );
      expectRefusal(await send(h, oa.verify('e', { omit: ['signature'] })), 401, 'invalid signature');
      expectRefusal(
        await send(h, oa.verify('', { timestamp: OaCallbackBuilder.now() - 301 })),
        401,
        'expired timestamp',
      );
      const once = oa.verify('first');
      expect((await send(h, once)).text).toBe('first');
      expectRefusal(await send(h, once), 401, 'replayed nonce');
      expectRefusal(await send(h, oa.verify('x'.repeat(129))), 400, 'bad request');
      expectRefusal(await send(h, oa.verify('', {})), 400, 'bad request');
      expectRefusal(await send(h, oa.verify('e', { omit: ['echostr'] })), 400, 'bad request');
    });

    it('msg_signature and encrypt_type play no part; echostr is never encrypted', async () => {
      const res = await send(
        h,
        oa.verify('plain-echo', { query: { encrypt_type: 'aes', msg_signature: 'junk' } }),
      );
      expect(res.text).toBe('plain-echo');
    });
  });

  describe('POST: the checks in order', () => {
    const message = () => oa.text({ from: newOpenid(), content: 'checks' });

    it('signature first, whatever else is wrong (body too large, not XML, stale)', async () => {
      const bad = { signature: '0'.repeat(40), timestamp: 1 };
      expectRefusal(
        await send(h, { ...oa.plaintext(message(), bad), body: '<!DOCTYPE x>' }),
        401,
        'invalid signature',
      );
      expectRefusal(
        await send(h, { ...oa.plaintext(message(), bad), body: 'x'.repeat(70_000) }),
        401,
        'invalid signature',
      );
      expectRefusal(await send(h, oa.safe(message(), { omit: ['signature'] })), 401, 'invalid signature');
      const otherToken = new OaCallbackBuilder({
        token: 'anotherToken',
        encodingAesKey: AES_KEY,
        appId: OFFICIAL_APP_ID,
      });
      expectRefusal(await send(h, otherToken.plaintext(message())), 401, 'invalid signature');
    });

    it('then the size: 64 KiB is read, one byte more is 413, whatever the content type', async () => {
      const from = newOpenid();
      const base = oa.text({ from, content: '' });
      const exact = oa.text({ from, content: '·'.repeat(0) + '.'.repeat(65_536 - Buffer.byteLength(base)) });
      expect(Buffer.byteLength(exact)).toBe(65_536);
      expectSuccess(await send(h, oa.plaintext(exact)));
      const over = oa.text({ from, content: '.'.repeat(65_537 - Buffer.byteLength(base)) });
      for (const type of ['text/xml', 'application/json', 'text/plain', 'application/octet-stream']) {
        expectRefusal(await send(h, oa.plaintext(over), type), 413, 'payload too large');
      }
    });

    it('then the XML: malformed, another root, a DOCTYPE (billion laughs, XXE) are 400, in milliseconds', async () => {
      const laughs =
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">' +
        Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ''};`.repeat(10)}">`).join(
          '',
        ) +
        ']><xml><Content>&lol9;</Content></xml>';
      const xxe =
        '<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><Content>&xxe;</Content></xml>';
      const stale = { timestamp: OaCallbackBuilder.now() - 1000 };
      for (const body of ['<xml><a></xml>', '<message/>', '', 'success', '{"xml":1}', laughs, xxe]) {
        const started = Date.now();
        expectRefusal(await send(h, oa.plaintext(body, stale)), 400, 'bad request');
        expect(Date.now() - started).toBeLessThan(1000);
      }
      // An encrypt_type of its own does not come first either.
      expectRefusal(await send(h, oa.plaintext(xxe, { encryptType: 'des' })), 400, 'bad request');
    });

    it('then aes: another encrypt_type or no Encrypt is 400, a wrong or missing msg_signature 401', async () => {
      const stale = { timestamp: OaCallbackBuilder.now() - 1000 };
      expectRefusal(await send(h, oa.plaintext(message(), { encryptType: 'des' })), 400, 'bad request');
      expectRefusal(await send(h, oa.safe(message(), { ...stale, encryptType: 'AES' })), 400, 'bad request');
      expectRefusal(
        await send(h, oa.plaintext(message(), { ...stale, encryptType: 'aes' })),
        400,
        'bad request',
      );
      expectRefusal(
        await send(h, oa.safe(message(), { ...stale, msgSignature: 'f'.repeat(40) })),
        401,
        'invalid signature',
      );
      expectRefusal(
        await send(h, oa.compatible(message(), { ...stale, omit: ['msg_signature'] })),
        401,
        'invalid signature',
      );
      expectRefusal(await send(h, oa.safe(message(), stale)), 401, 'expired timestamp');
    });

    it('then the timestamp: an integer within ±300 s', async () => {
      const now = OaCallbackBuilder.now();
      for (const timestamp of [now - 290, now + 290])
        expectSuccess(await send(h, oa.plaintext(message(), { timestamp })));
      for (const timestamp of [now - 310, now + 310, `${now}.5`, 'soon', '']) {
        expectRefusal(await send(h, oa.plaintext(message(), { timestamp })), 401, 'expired timestamp');
      }
    });

    it('then the nonce: the same (timestamp, nonce) again is refused, even when the first did not decrypt', async () => {
      const first = oa.plaintext(message());
      expectSuccess(await send(h, first));
      expectRefusal(await send(h, first), 401, 'replayed nonce');
      const broken = oa.safe(message(), { appId: 'wxffffffffffffffff' });
      expectRefusal(await send(h, broken), 400, 'bad request');
      expectRefusal(await send(h, broken), 401, 'replayed nonce');
    });

    it('last, aes: another account’s message, a bad padding or a broken message inside are 400', async () => {
      expectRefusal(await send(h, oa.safe(message(), { appId: 'wxffffffffffffffff' })), 400, 'bad request');
      const tampered = Buffer.from(oa.encrypt(message()), 'base64');
      tampered[tampered.length - 1] ^= 0x55;
      expectRefusal(
        await send(h, oa.safe(message(), { encrypt: tampered.toString('base64') })),
        400,
        'bad request',
      );
      expectRefusal(await send(h, oa.safe('<!DOCTYPE x><xml/>')), 400, 'bad request');
      expectRefusal(
        await send(h, oa.compatible('<xml><a></xml>', { siblings: message() })),
        400,
        'bad request',
      );
    });
  });

  describe('modes and replies', () => {
    beforeAll(async () => {
      await rule({ match: 'exact', keyword: 'mode-check', reply: 'reply ]]> in every mode' });
    });

    it('plaintext: the reply is the text XML, To and From swapped, ]]> split across CDATA', async () => {
      const from = newOpenid();
      const req = oa.plaintext(oa.text({ from, content: 'mode-check' }));
      const res = await send(h, req);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe(XML);
      expect(res.text).toMatch(
        new RegExp(
          `^<xml><ToUserName><!\\[CDATA\\[${from}\\]\\]></ToUserName><FromUserName><!\\[CDATA\\[${oa.account}\\]\\]></FromUserName>` +
            '<CreateTime>\\d+</CreateTime><MsgType><!\\[CDATA\\[text\\]\\]></MsgType>' +
            '<Content><!\\[CDATA\\[reply \\]\\]\\]\\]><!\\[CDATA\\[> in every mode\\]\\]></Content></xml>$',
        ),
      );
      expect(oa.readReply(res.text, req)).toMatchObject({
        kind: 'plain',
        fields: { Content: 'reply ]]> in every mode' },
      });
    });

    it.each(['compatible', 'safe'] as const)(
      '%s mode: the reply is encrypted, signed, with the request’s nonce',
      async (mode) => {
        const from = newOpenid();
        const req = oa[mode](oa.text({ from, content: 'mode-check' }));
        const res = await send(h, req);
        expect(res.status).toBe(200);
        expect(res.headers['content-type']).toBe(XML);
        expect(res.text).toMatch(
          /^<xml><Encrypt><!\[CDATA\[[A-Za-z0-9+/=]+\]\]><\/Encrypt><MsgSignature><!\[CDATA\[[0-9a-f]{40}\]\]><\/MsgSignature><TimeStamp>\d+<\/TimeStamp><Nonce><!\[CDATA\[\d+\]\]><\/Nonce><\/xml>$/,
        );
        expect(oa.readReply(res.text, req)).toMatchObject({
          kind: 'encrypted',
          fields: {
            ToUserName: from,
            FromUserName: oa.account,
            MsgType: 'text',
            Content: 'reply ]]> in every mode',
          },
        });
      },
    );

    it('compatible mode reads only the decrypted message, not its plaintext siblings', async () => {
      const inner = oa.text({ from: newOpenid(), content: 'no rule for this' });
      const forged = oa.text({ from: newOpenid(), content: 'mode-check' });
      const res = await send(h, oa.compatible(inner, { siblings: forged }));
      expectSuccess(res);
    });

    it('success is never encrypted', async () => {
      expectSuccess(await send(h, oa.safe(oa.text({ from: newOpenid(), content: 'nothing matches' }))));
      expectSuccess(
        await send(h, oa.safe(oa.event({ from: newOpenid(), event: 'VIEW', eventKey: 'https://x.example' }))),
      );
    });

    it('the query openid is ignored', async () => {
      const req = oa.plaintext(oa.text({ from: newOpenid(), content: 'mode-check' }), {
        openid: 'o_someone_else',
      });
      expect(oa.readReply((await send(h, req)).text, req)).toMatchObject({
        fields: { Content: 'reply ]]> in every mode' },
      });
    });
  });

  describe("WeChat's retries", () => {
    beforeAll(async () => {
      await rule({ match: 'exact', keyword: 'retry-check', reply: 'only once' });
      await rule({ match: 'click', keyword: 'RETRY_KEY', reply: 'clicked once' });
    });

    it('the same MsgId again (fresh nonce) is answered success and handled once', async () => {
      const xml = oa.text({ from: newOpenid(), content: 'retry-check' });
      const first = oa.safe(xml);
      expect(oa.readReply((await send(h, first)).text, first)).toMatchObject({
        fields: { Content: 'only once' },
      });
      expectSuccess(await send(h, oa.safe(xml)));
      expectSuccess(await send(h, oa.plaintext(xml)));
    });

    it('an event again (same sender, CreateTime and Event) likewise; another time is another event', async () => {
      const from = newOpenid();
      const xml = oa.event({ from, event: 'CLICK', eventKey: 'RETRY_KEY', createTime: 1_800_000_000 });
      expect(oa.readReply((await send(h, oa.plaintext(xml))).text)).toMatchObject({
        fields: { Content: 'clicked once' },
      });
      expectSuccess(await send(h, oa.plaintext(xml)));
      const later = oa.event({ from, event: 'CLICK', eventKey: 'RETRY_KEY', createTime: 1_800_000_001 });
      expect(oa.readReply((await send(h, oa.plaintext(later))).text)).toMatchObject({
        fields: { Content: 'clicked once' },
      });
    });
  });

  describe('subscribe, unsubscribe, followers', () => {
    const followers = () => h.app.get(FollowersService);

    it('subscribe: the welcome text, the follower recorded with its unionid and linked to the user holding it', async () => {
      const unionid = `u_e2e_${process.pid}_${++openidSeq}`;
      const user = await h.login(undefined, { unionid });
      const from = newOpenid();
      h.fake.follow(from, { unionid });
      const req = oa.safe(oa.event({ from, event: 'subscribe', eventKey: 'qrscene_123', ticket: 'T' }));
      const res = await send(h, req);
      expect(oa.readReply(res.text, req)).toMatchObject({
        kind: 'encrypted',
        fields: { ToUserName: from, Content: WELCOME },
      });
      expect(h.fake.requests('user_info').some((r) => r.query.openid === from)).toBe(true);
      const follower = await followers().find(from);
      expect(follower).toMatchObject({
        subscribed: true,
        unionid,
        userId: user.user.id,
        unsubscribedAt: null,
      });
      expect(follower?.subscribedAt).toBeInstanceOf(Date);
      expect(await followers().unionidOf(from)).toBe(unionid);
      expect(res.text).not.toContain(unionid);
    });

    it('a user/info failure stops nothing: welcome, follower subscribed without a unionid', async () => {
      const from = newOpenid();
      h.fake.follow(from, { unionid: 'u_never_learned' });
      h.fake.failNext('user_info', 40001 + 2, 1);
      const res = await send(h, oa.plaintext(oa.event({ from, event: 'subscribe' })));
      expect(oa.readReply(res.text)).toMatchObject({ fields: { Content: WELCOME } });
      expect(await followers().find(from)).toMatchObject({ subscribed: true, unionid: null, userId: null });
    });

    it('unsubscribe: success, unsubscribedAt set; subscribing again follows again', async () => {
      const from = newOpenid();
      h.fake.follow(from);
      await send(h, oa.plaintext(oa.event({ from, event: 'subscribe', createTime: 1_800_000_100 })));
      expectSuccess(
        await send(h, oa.plaintext(oa.event({ from, event: 'unsubscribe', createTime: 1_800_000_200 }))),
      );
      const gone = await followers().find(from);
      expect(gone).toMatchObject({ subscribed: false });
      expect(gone?.unsubscribedAt).toBeInstanceOf(Date);
      await send(h, oa.plaintext(oa.event({ from, event: 'subscribe', createTime: 1_800_000_300 })));
      expect(await followers().find(from)).toMatchObject({ subscribed: true });
    });

    it('any other message or event records the last interaction and answers success', async () => {
      const from = newOpenid();
      expectSuccess(
        await send(h, oa.plaintext(oa.event({ from, event: 'SCAN', eventKey: '42', ticket: 'T' }))),
      );
      const first = await followers().find(from);
      expect(first?.lastInteractionAt).toBeInstanceOf(Date);
      expectSuccess(
        await send(
          h,
          oa.plaintext(oa.message({ from, msgType: 'location', fields: '<Location_X>23.1</Location_X>' })),
        ),
      );
      expectSuccess(
        await send(
          h,
          oa.plaintext(
            oa.message({ from, msgType: 'image', fields: '<PicUrl><![CDATA[http://x]]></PicUrl>' }),
          ),
        ),
      );
      const later = await followers().find(from);
      expect(later!.lastInteractionAt!.getTime()).toBeGreaterThanOrEqual(first!.lastInteractionAt!.getTime());
    });

    it('erasing the user erases the follower record linked to them', async () => {
      const unionid = `u_e2e_${process.pid}_${++openidSeq}`;
      const user = await h.login(undefined, { unionid });
      const from = newOpenid();
      h.fake.follow(from, { unionid });
      await send(h, oa.plaintext(oa.event({ from, event: 'subscribe' })));
      expect((await followers().find(from))?.userId).toBe(user.user.id);
      expectOk(await h.http().delete(`/api/v1/users/${user.user.id}`).set('Authorization', admin));
      expect(await followers().find(from)).toBeNull();
      expect(await h.dumpDatabase()).not.toContain(from);
    });
  });

  describe('time budget', () => {
    const timing = () => h.app.get(CallbackTiming);
    afterEach(() => {
      timing().budgetMs = 4000;
    });

    it('a slow handler: success within the budget, its reply then sent as a customer-service text', async () => {
      const handlers = h.app.get(OfficialMessageHandlers);
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const route = { msgType: 'event', event: 'E2E_SLOW' };
      handlers.register(route, {
        handle: async (message: OfficialMessage) => {
          await released;
          return { text: `late answer for ${message.eventKey}` };
        },
      });
      try {
        timing().budgetMs = 300;
        const from = newOpenid();
        h.fake.follow(from);
        const sentBefore = h.fake.calls('custom_send');
        const started = Date.now();
        const res = await send(h, oa.safe(oa.event({ from, event: 'E2E_SLOW', eventKey: 'k1' })));
        expectSuccess(res);
        expect(Date.now() - started).toBeLessThan(5000);
        expect(h.fake.calls('custom_send')).toBe(sentBefore);
        release();
        await h.fake.waitForCalls('custom_send', sentBefore + 1);
        expect(h.fake.customMessages().at(-1)).toMatchObject({ touser: from, content: 'late answer for k1' });
      } finally {
        handlers.unregister(route);
      }
    });

    it('subscribe with a slow user/info: success in time, then the welcome as a customer-service text', async () => {
      timing().budgetMs = 200;
      const from = newOpenid();
      h.fake.follow(from, { unionid: `u_slow_${process.pid}` });
      h.fake.delayNext('user_info', 800);
      const sentBefore = h.fake.calls('custom_send');
      const started = Date.now();
      expectSuccess(await send(h, oa.plaintext(oa.event({ from, event: 'subscribe' }))));
      expect(Date.now() - started).toBeLessThan(800);
      await h.fake.waitForCalls('custom_send', sentBefore + 1);
      expect(h.fake.customMessages().at(-1)).toMatchObject({ touser: from, content: WELCOME });
      expect(await h.app.get(FollowersService).find(from)).toMatchObject({
        subscribed: true,
        unionid: `u_slow_${process.pid}`,
      });
    });
  });

  describe('auto-replies: admin CRUD and matching', () => {
    it('create: 201 with the AutoReply shape, enabled by default; (match, keyword) unique, case-sensitive', async () => {
      const created = await rule({ match: 'contains', keyword: 'Price', reply: 'see the shop' });
      expect(Object.keys(created).sort()).toEqual([
        'createdAt',
        'enabled',
        'id',
        'keyword',
        'match',
        'reply',
        'updatedAt',
      ]);
      expect(created).toMatchObject({
        match: 'contains',
        keyword: 'Price',
        reply: 'see the shop',
        enabled: true,
      });
      expectError(
        await h
          .http()
          .post(ADMIN_RULES)
          .set('Authorization', admin)
          .send({ match: 'contains', keyword: 'Price', reply: 'x' }),
        40900,
      );
      await rule({ match: 'contains', keyword: 'price', reply: 'lower case is another keyword' });
      await rule({
        match: 'exact',
        keyword: 'Price',
        reply: 'another match is another rule',
        enabled: false,
      });
    });

    it('validation: keyword 1-128 bytes of UTF-8, reply 1-600 characters, known match, no other field', async () => {
      const post = (body: Record<string, unknown>) =>
        h.http().post(ADMIN_RULES).set('Authorization', admin).send(body);
      expectOk(await post({ match: 'exact', keyword: '价'.repeat(42) + 'ab', reply: '好'.repeat(600) }), 201);
      expectValidationError(await post({ match: 'exact', keyword: '价'.repeat(43), reply: 'r' }), 'keyword');
      expectValidationError(await post({ match: 'exact', keyword: '', reply: 'r' }), 'keyword');
      expectValidationError(
        await post({ match: 'exact', keyword: 'k601', reply: '好'.repeat(601) }),
        'reply',
      );
      expectValidationError(await post({ match: 'exact', keyword: 'k0', reply: '' }), 'reply');
      expectValidationError(await post({ match: 'regex', keyword: 'k', reply: 'r' }), 'match');
      expectValidationError(
        await post({ match: 'exact', keyword: 'k', reply: 'r', enabled: 'yes' }),
        'enabled',
      );
      expectValidationError(await post({ match: 'exact', keyword: 'k', reply: 'r', extra: 1 }));
      expectValidationError(await post({ keyword: 'k', reply: 'r' }), 'match');
    });

    it('list oldest first, paged; patch any field; delete; 404 for unknown or malformed ids', async () => {
      const a = await rule({ match: 'exact', keyword: 'list-a', reply: 'A' });
      const b = await rule({ match: 'exact', keyword: 'list-b', reply: 'B' });
      const all = expectOk(await h.http().get(`${ADMIN_RULES}?pageSize=100`).set('Authorization', admin));
      const ids = all.items.map((item: { id: string }) => item.id);
      expect(ids.indexOf(a.id)).toBeLessThan(ids.indexOf(b.id));
      expect(all).toMatchObject({ page: 1, pageSize: 100, total: ids.length });
      const created = all.items.map((item: { createdAt: string }) => Date.parse(item.createdAt));
      expect([...created].sort((x, y) => x - y)).toEqual(created);
      const second = expectOk(
        await h.http().get(`${ADMIN_RULES}?page=2&pageSize=1`).set('Authorization', admin),
      );
      expect(second.items.map((item: { id: string }) => item.id)).toEqual([ids[1]]);

      const patched = expectOk(
        await h
          .http()
          .patch(`${ADMIN_RULES}/${a.id}`)
          .set('Authorization', admin)
          .send({ reply: 'A2', enabled: false }),
      );
      expect(patched).toMatchObject({
        id: a.id,
        keyword: 'list-a',
        reply: 'A2',
        enabled: false,
        createdAt: a.createdAt,
      });
      expect(Date.parse(patched.updatedAt)).toBeGreaterThanOrEqual(Date.parse(a.updatedAt));
      expectError(
        await h
          .http()
          .patch(`${ADMIN_RULES}/${a.id}`)
          .set('Authorization', admin)
          .send({ keyword: 'list-b' }),
        40900,
      );
      expectValidationError(
        await h.http().patch(`${ADMIN_RULES}/${a.id}`).set('Authorization', admin).send({ keyword: '' }),
        'keyword',
      );
      expect(
        expectOk(await h.http().patch(`${ADMIN_RULES}/${a.id}`).set('Authorization', admin).send({})),
      ).toMatchObject({
        reply: 'A2',
      });

      expect(
        expectOk(await h.http().delete(`${ADMIN_RULES}/${a.id}`).set('Authorization', admin)),
      ).toBeNull();
      expectError(await h.http().delete(`${ADMIN_RULES}/${a.id}`).set('Authorization', admin), 40400);
      expectError(
        await h.http().patch(`${ADMIN_RULES}/${a.id}`).set('Authorization', admin).send({ reply: 'x' }),
        40400,
      );
      expectError(await h.http().delete(`${ADMIN_RULES}/not-a-uuid`).set('Authorization', admin), 40400);

      const dump = await h.dumpDatabase();
      for (const event of ['auto_reply_created', 'auto_reply_changed', 'auto_reply_deleted'])
        expect(dump).toContain(event);
    });

    it('admins only', async () => {
      const user = await h.login();
      expectError(await h.http().get(ADMIN_RULES).set('Authorization', user.bearer), 40300);
      expectError(await h.http().post(ADMIN_RULES).send({ match: 'exact', keyword: 'k', reply: 'r' }), 40100);
    });

    it('matching: exact on the trimmed text first, else the longest contained keyword, then the oldest', async () => {
      await rule({ match: 'contains', keyword: 'ship', reply: 'contains ship' });
      await rule({ match: 'contains', keyword: 'shipping', reply: 'contains shipping' });
      await rule({ match: 'contains', keyword: 'fees', reply: 'contains fees (older)' });
      await rule({ match: 'contains', keyword: 'cost', reply: 'contains cost (newer)' });
      await rule({ match: 'exact', keyword: 'shipping', reply: 'exact shipping' });
      await rule({ match: 'contains', keyword: 'gone', reply: 'disabled', enabled: false });
      expect(await textReply('  shipping \n')).toBe('exact shipping');
      expect(await textReply('what does shipping cost?', 'safe')).toBe('contains shipping');
      expect(await textReply('ship it')).toBe('contains ship');
      expect(await textReply('cost and fees', 'compatible')).toBe('contains fees (older)');
      expect(await textReply('SHIPPING')).toBeNull();
      expect(await textReply('gone')).toBeNull();
      expect(await textReply('price?')).toBe('lower case is another keyword');
    });

    it('CLICK: the enabled click rule whose keyword is the EventKey', async () => {
      await rule({ match: 'click', keyword: 'V1001_TODAY', reply: 'today’s song' });
      await rule({ match: 'click', keyword: 'V1002_OFF', reply: 'never', enabled: false });
      const click = async (eventKey: string) => {
        const req = oa.safe(oa.event({ from: newOpenid(), event: 'CLICK', eventKey }));
        const reply = oa.readReply((await send(h, req)).text, req);
        return reply.kind === 'success' ? null : reply.fields.Content;
      };
      expect(await click('V1001_TODAY')).toBe('today’s song');
      expect(await click('V1002_OFF')).toBeNull();
      expect(await click('v1001_today')).toBeNull();
      // A text with the key is not a click.
      expect(await textReply('V1001_TODAY')).toBeNull();
    });
  });

  it('metrics count the callbacks by type and outcome', async () => {
    const res = await h.http().get('/metrics');
    expect(res.status).toBe(200);
    for (const series of [
      /wechat_oa_callbacks_total\{type="verify",outcome="success"\} [1-9]/,
      /wechat_oa_callbacks_total\{type="verify",outcome="refused"\} [1-9]/,
      /wechat_oa_callbacks_total\{type="text",outcome="reply"\} [1-9]/,
      /wechat_oa_callbacks_total\{type="text",outcome="duplicate"\} [1-9]/,
      /wechat_oa_callbacks_total\{type="event",outcome="late"\} [1-9]/,
      /wechat_oa_callbacks_total\{type="other",outcome="refused"\} [1-9]/,
      /wechat_oa_callback_duration_seconds_count [1-9]/,
    ]) {
      expect(res.text).toMatch(series);
    }
  });
});

describe('official account callback: plaintext only, nonces in Redis', () => {
  let h: Harness;
  let other: Harness;
  let oa: OaCallbackBuilder;

  beforeAll(async () => {
    const env = { ...OA_ENV, WECHAT_OA_ENCODING_AES_KEY: undefined, REDIS_URL: 'redis://127.0.0.1:6379/7' };
    h = await startHarness({ env });
    // Another instance (its own database) sharing the Redis.
    other = await startHarness({ env });
    oa = new OaCallbackBuilder({ token: TOKEN, encodingAesKey: AES_KEY, appId: OFFICIAL_APP_ID });
  });
  afterAll(async () => {
    await h?.close();
    await other?.close();
  });

  it('aes without an EncodingAESKey configured is 400, plaintext works', async () => {
    const xml = oa.text({ from: newOpenid(), content: 'hello' });
    expectRefusal(await send(h, oa.safe(xml)), 400, 'bad request');
    expectSuccess(await send(h, oa.plaintext(xml)));
  });

  it('a nonce seen by one instance is a replay on the other', async () => {
    const once = oa.plaintext(oa.text({ from: newOpenid(), content: 'hello' }));
    expectSuccess(await send(h, once));
    expectRefusal(await send(h, once), 401, 'replayed nonce');
    expectRefusal(await send(other, once), 401, 'replayed nonce');
    const check = oa.verify('shared');
    expect((await send(other, check)).text).toBe('shared');
    expectRefusal(await send(h, check), 401, 'replayed nonce');
  });

  it('a message handled by one instance is a duplicate on the other (fresh nonce)', async () => {
    const xml = oa.event({
      from: newOpenid(),
      event: 'SCAN',
      eventKey: '1',
      createTime: OaCallbackBuilder.now(),
    });
    expectSuccess(await send(h, oa.plaintext(xml)));
    const before = await other.app
      .get(FollowersService)
      .find(/<FromUserName><!\[CDATA\[([^\]]+)/.exec(xml)![1]);
    expectSuccess(await send(other, oa.plaintext(xml)));
    // Handled once: the other instance (its own database) recorded nothing.
    expect(before).toBeNull();
    expect(
      await other.app.get(FollowersService).find(/<FromUserName><!\[CDATA\[([^\]]+)/.exec(xml)![1]),
    ).toBeNull();
  });
});

describe('official account callback: Redis unreachable', () => {
  let h: Harness;
  let oa: OaCallbackBuilder;

  beforeAll(async () => {
    // A port nothing listens on: Redis is down from the start.
    const proxy = await TcpProxy.start({ host: '127.0.0.1', port: 6379 });
    const port = proxy.port;
    await proxy.close();
    h = await startHarness({ env: { ...OA_ENV, REDIS_URL: `redis://127.0.0.1:${port}/0` } });
    oa = new OaCallbackBuilder({ token: TOKEN, encodingAesKey: AES_KEY, appId: OFFICIAL_APP_ID });
  });
  // Within the default hook time limit: nothing of the shutdown waits for the unreachable Redis
  // (the job queue's close once hung here forever and kept jest from exiting).
  afterAll(() => h?.close());

  it('the nonce cannot be checked: 503 unavailable; the checks before it still decide first', async () => {
    const xml = oa.text({ from: newOpenid(), content: 'hello' });
    expectRefusal(await send(h, oa.plaintext(xml)), 503, 'unavailable');
    expectRefusal(await send(h, oa.safe(xml)), 503, 'unavailable');
    expectRefusal(await send(h, oa.verify('e')), 503, 'unavailable');
    expectRefusal(await send(h, oa.verify('e', { timestamp: 1 })), 401, 'expired timestamp');
    expectRefusal(await send(h, oa.plaintext(xml, { signature: 'f'.repeat(40) })), 401, 'invalid signature');
    expectRefusal(await send(h, oa.plaintext('<xml>')), 400, 'bad request');
  });
});

describe('official account off (no WECHAT_OA_APP_ID)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { WECHAT_OA_APP_ID: undefined } });
  });
  afterAll(() => h?.close());

  it('every route of the callback and of the auto-replies answers 404 / 40400', async () => {
    const oa = new OaCallbackBuilder({ token: TOKEN });
    const admin = (await h.loginAdmin()).bearer;
    expectError(await send(h, oa.verify('e')), 40400);
    expectError(await send(h, oa.plaintext(oa.text({ from: newOpenid(), content: 'x' }))), 40400);
    expectError(await send(h, { ...oa.plaintext('<xml/>'), body: 'x'.repeat(70_000) }), 40400);
    expectError(await h.http().get(ADMIN_RULES).set('Authorization', admin), 40400);
    expectError(
      await h
        .http()
        .post(ADMIN_RULES)
        .set('Authorization', admin)
        .send({ match: 'exact', keyword: 'k', reply: 'r' }),
      40400,
    );
    expectError(await h.http().patch(`${ADMIN_RULES}/00000000-0000-4000-8000-000000000000`).send({}), 40400);
    expectError(await h.http().delete(`${ADMIN_RULES}/00000000-0000-4000-8000-000000000000`), 40400);
  });
});
