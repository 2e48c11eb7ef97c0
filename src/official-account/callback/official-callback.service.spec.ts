import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { DiscoveryService } from '@nestjs/core';
import { AppError } from '../../common/errors/app-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import type { OfficialAccountClient } from '../../wechat/official-account-client.port.js';
import type { FollowersService } from '../followers/followers.service.js';
import type { OfficialAccountSettings } from '../official-account-settings.js';
import { callbackSignature } from './callback-signature.js';
import type { VerifiedCallback } from './callback-verifier.js';
import { parseCallbackXml, textOf, type CallbackXml } from './callback-xml.js';
import { OfficialMessageHandlers, type OfficialMessageHandler } from './message-handlers.js';
import { CallbackTiming, OfficialCallbackService } from './official-callback.service.js';
import type { OfficialMessage, OfficialReply } from './official-message.js';
import { MemorySeenKeys, SeenKeys } from './seen-keys.js';
import { WxBizMsgCrypt } from './wx-biz-msg-crypt.js';

const SETTINGS: OfficialAccountSettings = {
  enabled: true,
  appId: 'wx1234567890abcdef',
  token: 'callbackToken1',
  encodingAesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
  welcomeText: null,
};
const OPENID = 'o_secret_openid_123';
const SECRET_TEXT = 'my private words';

class FakeFollowers {
  readonly interactions: string[] = [];
  interacted(openid: string): Promise<void> {
    this.interactions.push(openid);
    return Promise.resolve();
  }
}

class FakeClient {
  readonly sent: Array<{ openid: string; text: string }> = [];
  fail = false;
  sendCustomText(openid: string, text: string): Promise<void> {
    if (this.fail) return Promise.reject(new AppError(ErrorCode.SERVICE_WINDOW_CLOSED));
    this.sent.push({ openid, text });
    return Promise.resolve();
  }
}

class DownKeys extends SeenKeys {
  firstTime(): Promise<boolean> {
    return Promise.reject(new AppError(ErrorCode.DEPENDENCY_UNAVAILABLE));
  }
}

function world(options: { keys?: SeenKeys; budgetMs?: number } = {}) {
  const followers = new FakeFollowers();
  const client = new FakeClient();
  const handlers = new OfficialMessageHandlers({ getProviders: () => [] } as unknown as DiscoveryService);
  const timing = new CallbackTiming();
  if (options.budgetMs !== undefined) timing.budgetMs = options.budgetMs;
  const service = new OfficialCallbackService(
    SETTINGS,
    options.keys ?? new MemorySeenKeys(300),
    handlers,
    followers as unknown as FollowersService,
    timing,
    client as unknown as OfficialAccountClient,
    () => Date.now(),
  );
  return { service, handlers, followers, client };
}

const text = (content: string, msgId = '6054768590064713728'): CallbackXml => ({
  ToUserName: 'gh_account',
  FromUserName: OPENID,
  CreateTime: '1700000000',
  MsgType: 'text',
  Content: content,
  MsgId: msgId,
});
const event = (name: string, extra: CallbackXml = {}): CallbackXml => ({
  ToUserName: 'gh_account',
  FromUserName: OPENID,
  CreateTime: '1700000001',
  MsgType: 'event',
  Event: name,
  ...extra,
});
const plain = (xml: CallbackXml): VerifiedCallback => ({ mode: 'plain', xml, nonce: '99' });

const replying = (
  reply: (message: OfficialMessage) => OfficialReply | null,
): OfficialMessageHandler & { calls: number } => {
  const handler = {
    calls: 0,
    handle(message: OfficialMessage) {
      handler.calls++;
      return Promise.resolve(reply(message));
    },
  };
  return handler;
};

describe('OfficialCallbackService', () => {
  afterEach(() => jest.restoreAllMocks());

  it('a handler’s reply is the passive text reply, To and From swapped', async () => {
    const { service, handlers, followers } = world();
    handlers.register(
      { msgType: 'text' },
      replying((m) => ({ text: `echo ${m.content}` })),
    );
    const { answer, outcome } = await service.answer(plain(text('hi')), Date.now());
    expect(outcome).toBe('reply');
    expect(answer.kind).toBe('xml');
    const xml = parseCallbackXml(answer.kind === 'xml' ? answer.body : '');
    expect(xml).toMatchObject({
      ToUserName: OPENID,
      FromUserName: 'gh_account',
      MsgType: 'text',
      Content: 'echo hi',
    });
    expect(Math.abs(Number(textOf(xml, 'CreateTime')) - Date.now() / 1000)).toBeLessThan(5);
    expect(followers.interactions).toEqual([OPENID]);
  });

  it('aes mode: the reply is encrypted with a fresh prefix and signed over its own TimeStamp and the request’s Nonce', async () => {
    const { service, handlers } = world();
    handlers.register(
      { msgType: 'text' },
      replying(() => ({ text: 'a]]>b' })),
    );
    const verified: VerifiedCallback = { mode: 'aes', xml: text('hi'), nonce: '1320562132' };
    const first = await service.answer(verified, Date.now());
    const second = await service.answer({ ...verified, xml: text('hi', '2') }, Date.now());
    const wrappers = [first, second].map(({ answer }) =>
      parseCallbackXml(answer.kind === 'xml' ? answer.body : ''),
    );
    const crypt = new WxBizMsgCrypt(SETTINGS.encodingAesKey!, SETTINGS.appId);
    for (const wrapper of wrappers) {
      expect(Object.keys(wrapper).sort()).toEqual(['Encrypt', 'MsgSignature', 'Nonce', 'TimeStamp']);
      expect(wrapper.Nonce).toBe('1320562132');
      const encrypt = textOf(wrapper, 'Encrypt')!;
      expect(wrapper.MsgSignature).toBe(
        callbackSignature([SETTINGS.token, textOf(wrapper, 'TimeStamp')!, '1320562132', encrypt]),
      );
      expect(parseCallbackXml(crypt.decrypt(encrypt))).toMatchObject({
        ToUserName: OPENID,
        Content: 'a]]>b',
      });
    }
    expect(wrappers[0].Encrypt).not.toBe(wrappers[1].Encrypt);
  });

  it('no reply, no handler: success (the interaction still recorded); subscribe and unsubscribe record their own', async () => {
    const { service, handlers, followers } = world();
    handlers.register(
      { msgType: 'event', event: 'CLICK' },
      replying(() => null),
    );
    expect((await service.answer(plain(event('CLICK', { EventKey: 'K' })), Date.now())).outcome).toBe(
      'success',
    );
    expect((await service.answer(plain(event('VIEW')), Date.now())).answer).toEqual({ kind: 'success' });
    expect(
      (await service.answer(plain({ ...text('x'), MsgType: 'image', MsgId: '7' }), Date.now())).outcome,
    ).toBe('success');
    await service.answer(plain(event('subscribe')), Date.now());
    await service.answer(plain(event('unsubscribe', { CreateTime: '1700000002' })), Date.now());
    expect(followers.interactions).toEqual([OPENID, OPENID, OPENID]);
  });

  it('a retry (same MsgId; same sender, time and event) is answered success and handled once', async () => {
    const { service, handlers } = world();
    const handler = replying(() => ({ text: 'once' }));
    handlers.register({ msgType: 'text' }, handler);
    handlers.register({ msgType: 'event', event: 'subscribe' }, handler);
    expect((await service.answer(plain(text('a', '1')), Date.now())).outcome).toBe('reply');
    expect(await service.answer(plain(text('a', '1')), Date.now())).toMatchObject({
      outcome: 'duplicate',
      answer: { kind: 'success' },
    });
    expect((await service.answer(plain(text('a', '2')), Date.now())).outcome).toBe('reply');
    expect((await service.answer(plain(event('subscribe')), Date.now())).outcome).toBe('reply');
    expect((await service.answer(plain(event('subscribe')), Date.now())).outcome).toBe('duplicate');
    expect(
      (await service.answer(plain(event('subscribe', { CreateTime: '1700000009' })), Date.now())).outcome,
    ).toBe('reply');
    expect(handler.calls).toBe(4);
  });

  it('failures answer success and are logged without the text or the openid', async () => {
    const logged: string[] = [];
    jest
      .spyOn(Logger.prototype, 'error')
      .mockImplementation((line: unknown) => void logged.push(String(line)));
    jest
      .spyOn(Logger.prototype, 'warn')
      .mockImplementation((line: unknown) => void logged.push(String(line)));
    const { service, handlers } = world();
    handlers.register(
      { msgType: 'text' },
      { handle: () => Promise.reject(new Error(`duplicate entry '${OPENID}' ${SECRET_TEXT}`)) },
    );
    expect(await service.answer(plain(text(SECRET_TEXT)), Date.now())).toMatchObject({
      outcome: 'success',
      answer: { kind: 'success' },
    });
    const down = world({ keys: new DownKeys() });
    down.handlers.register(
      { msgType: 'text' },
      replying(() => ({ text: 'never' })),
    );
    expect((await down.service.answer(plain(text(SECRET_TEXT)), Date.now())).answer).toEqual({
      kind: 'success',
    });
    expect(logged.length).toBe(2);
    for (const line of logged) {
      expect(line).not.toContain(OPENID);
      expect(line).not.toContain(SECRET_TEXT);
    }
  });

  it('work past the budget: success at once, then its reply as a customer-service text', async () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const { service, handlers, client } = world({ budgetMs: 20 });
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    handlers.register({ msgType: 'text' }, { handle: () => released.then(() => ({ text: 'late reply' })) });
    const started = Date.now();
    const result = await service.answer(plain(text('slow')), started);
    expect(result).toMatchObject({ outcome: 'late', answer: { kind: 'success' } });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(client.sent).toEqual([]);
    release();
    await service.beforeApplicationShutdown();
    expect(client.sent).toEqual([{ openid: OPENID, text: 'late reply' }]);
  });

  it('the budget counts from the request’s start', async () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const { service, handlers } = world({ budgetMs: 4000 });
    handlers.register({ msgType: 'text' }, { handle: () => new Promise(() => undefined) });
    expect((await service.answer(plain(text('x')), Date.now() - 4000)).outcome).toBe('late');
  });

  it('a late reply that WeChat refuses is logged, nothing else', async () => {
    const warned: string[] = [];
    jest
      .spyOn(Logger.prototype, 'warn')
      .mockImplementation((line: unknown) => void warned.push(String(line)));
    const { service, handlers, client } = world({ budgetMs: 0 });
    client.fail = true;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    handlers.register({ msgType: 'text' }, { handle: () => released.then(() => ({ text: SECRET_TEXT })) });
    expect((await service.answer(plain(text('x')), Date.now())).outcome).toBe('late');
    release();
    await service.beforeApplicationShutdown();
    expect(warned.some((line) => line.includes('AppError 40923'))).toBe(true);
    expect(warned.join('\n')).not.toContain(SECRET_TEXT);
  });
});

describe('OfficialMessageHandlers', () => {
  it('one handler per route, events and types compared without case', () => {
    const handlers = new OfficialMessageHandlers({ getProviders: () => [] } as unknown as DiscoveryService);
    const a = replying(() => null);
    handlers.register({ msgType: 'event', event: 'CLICK' }, a);
    expect(handlers.handlerFor({ msgType: 'event', event: 'click' } as OfficialMessage)).toBe(a);
    expect(handlers.handlerFor({ msgType: 'EVENT', event: 'CLICK' } as OfficialMessage)).toBe(a);
    expect(handlers.handlerFor({ msgType: 'event', event: 'VIEW' } as OfficialMessage)).toBeNull();
    expect(handlers.handlerFor({ msgType: 'click' } as OfficialMessage)).toBeNull();
    expect(() =>
      handlers.register(
        { msgType: 'event', event: 'click' },
        replying(() => null),
      ),
    ).toThrow(/two/);
    handlers.unregister({ msgType: 'event', event: 'Click' });
    expect(handlers.handlerFor({ msgType: 'event', event: 'CLICK' } as OfficialMessage)).toBeNull();
  });
});
