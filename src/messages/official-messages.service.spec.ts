import { randomUUID } from 'node:crypto';
import { failure } from '../../test/support/app-errors.js';
import { messagesWorld, MP_APP_ID, type MessagesWorld } from '../../test/support/in-memory-messages.js';
import { META } from '../../test/support/unit-world.js';
import { AppError } from '../common/errors/app-error.js';
import { ErrorCode } from '../common/errors/error-code.js';

const DATA = { keyword1: { value: '巧克力' } };
const ADMIN = 'admin-0000';

describe('OfficialMessages (template and customer-service messages)', () => {
  let w: MessagesWorld;
  let userId: string;
  let oaOpenid: string;

  beforeEach(async () => {
    w = messagesWorld();
    oaOpenid = `oa_${randomUUID()}`;
    userId = (await w.users.signInWithOaOpenid(oaOpenid, undefined, {}, META)).user.id;
  });

  it('sends a template message to the OA openid with a fresh client_msg_id; answers its msgid', async () => {
    const first = await w.officialMessages.sendTemplate(
      ADMIN,
      { userId, templateId: 't', data: DATA, url: 'https://a.example/x' },
      META,
    );
    const second = await w.officialMessages.sendTemplate(
      ADMIN,
      { userId, templateId: 't', data: DATA, miniprogram: { pagepath: 'pages/index' } },
      META,
    );
    expect(first.wechatMsgId).toMatch(/^\d+$/);
    expect(second.wechatMsgId).not.toBe(first.wechatMsgId);
    const [a, b] = w.official.templates;
    expect(a).toMatchObject({
      touser: oaOpenid,
      templateId: 't',
      data: DATA,
      url: 'https://a.example/x',
      miniprogram: undefined,
    });
    expect(b.miniprogram).toEqual({ appid: MP_APP_ID, pagepath: 'pages/index' });
    expect(a.clientMsgId).toMatch(/^[0-9a-f]{32}$/);
    expect(b.clientMsgId).not.toBe(a.clientMsgId);
    expect(w.repos.audit.rows.filter((e) => e.event === 'template_message_sent')).toHaveLength(2);
    expect(JSON.stringify(w.repos.audit.rows)).not.toContain('巧克力');
  });

  it('keeps a given mini-program appid', async () => {
    await w.officialMessages.sendTemplate(
      ADMIN,
      { userId, templateId: 't', data: DATA, miniprogram: { pagepath: 'p', appid: 'wx0123456789abcdef' } },
      META,
    );
    expect(w.official.templates[0].miniprogram).toEqual({ appid: 'wx0123456789abcdef', pagepath: 'p' });
  });

  it('sends a customer-service text and audits it without its text', async () => {
    await w.officialMessages.sendCustomText(ADMIN, userId, 'hello there', META);
    expect(w.official.texts).toEqual([{ openid: oaOpenid, text: 'hello there' }]);
    const entries = w.repos.audit.rows.filter((e) => e.event === 'cs_message_sent');
    expect(entries).toEqual([expect.objectContaining({ userId, actorId: ADMIN })]);
    expect(JSON.stringify(entries)).not.toContain('hello');
  });

  it('refuses before any call: unknown user 404, no OA openid 40921, unsubscribed on record 40922', async () => {
    const send = (who: string) => w.officialMessages.sendCustomText(ADMIN, who, 'hi', META);
    expect((await failure(send(randomUUID()))).code).toBe(ErrorCode.NOT_FOUND);
    const mpOnly = (await w.users.findOrCreateByOpenid(`o_${randomUUID()}`, undefined, 'user')).user.id;
    expect((await failure(send(mpOnly))).code).toBe(ErrorCode.NO_IDENTITY_IN_APP);
    expect(
      (
        await failure(
          w.officialMessages.sendTemplate(ADMIN, { userId: mpOnly, templateId: 't', data: DATA }, META),
        )
      ).code,
    ).toBe(ErrorCode.NO_IDENTITY_IN_APP);
    w.followers.unsubscribed.add(oaOpenid);
    expect((await failure(send(userId))).code).toBe(ErrorCode.NOT_A_FOLLOWER);
    expect(w.official.texts).toEqual([]);
  });

  it("passes WeChat's refusals on (40922, 40923) and counts them as failed", async () => {
    w.official.outcomes.push(
      new AppError(ErrorCode.NOT_A_FOLLOWER),
      new AppError(ErrorCode.SERVICE_WINDOW_CLOSED),
    );
    expect(
      (await failure(w.officialMessages.sendTemplate(ADMIN, { userId, templateId: 't', data: DATA }, META)))
        .code,
    ).toBe(ErrorCode.NOT_A_FOLLOWER);
    expect((await failure(w.officialMessages.sendCustomText(ADMIN, userId, 'hi', META))).code).toBe(
      ErrorCode.SERVICE_WINDOW_CLOSED,
    );
    const values = (await w.metrics.messages.get()).values.map((v) => [v.labels, v.value]);
    expect(values).toEqual(
      expect.arrayContaining([
        [{ kind: 'template', result: 'failed' }, 1],
        [{ kind: 'custom', result: 'failed' }, 1],
      ]),
    );
    expect(w.repos.audit.rows.filter((e) => e.event.endsWith('message_sent'))).toEqual([]);
  });

  it('answers 404 while the official account is off', async () => {
    const off = messagesWorld({ official: false });
    expect((await failure(off.officialMessages.sendCustomText(ADMIN, userId, 'hi', META))).code).toBe(
      ErrorCode.NOT_FOUND,
    );
  });
});
