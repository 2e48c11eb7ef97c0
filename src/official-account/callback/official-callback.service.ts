import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import {
  WECHAT_OFFICIAL_CLIENT,
  type OfficialAccountClient,
} from '../../wechat/official-account-client.port.js';
import { OFFICIAL_ACCOUNT_SETTINGS, type OfficialAccountSettings } from '../official-account-settings.js';
import { FollowersService } from '../followers/followers.service.js';
import type { CallbackOutcome } from './callback-metrics.js';
import { callbackSignature } from './callback-signature.js';
import { CALLBACK_CLOCK, type CallbackClock, type VerifiedCallback } from './callback-verifier.js';
import { encryptedReplyXml, textReplyXml } from './callback-xml.js';
import { OfficialMessageHandlers } from './message-handlers.js';
import {
  deduplicationKey,
  toOfficialMessage,
  type OfficialMessage,
  type OfficialReply,
} from './official-message.js';
import type { SeenKeys } from './seen-keys.js';
import { WxBizMsgCrypt } from './wx-biz-msg-crypt.js';

/** The de-duplication keys of the last messages (≥ 60 s; WeChat retries for 15 s): a SeenKeys. */
export const CALLBACK_MESSAGES = Symbol('CALLBACK_MESSAGES');
export const MESSAGE_WINDOW_SECONDS = 300;

/**
 * How long a message's work may take before the callback answers `success` without it (WeChat
 * gives up at 5 s). Internal: e2e tests shorten it on the running app to meet a slow handler fast.
 */
@Injectable()
export class CallbackTiming {
  budgetMs = 4000;
}

/** What the controller sends: `success` (plain text) or an XML reply. */
export type CallbackAnswer = { kind: 'success' } | { kind: 'xml'; body: string };

const SUCCESS: CallbackAnswer = { kind: 'success' };
/** Events that write the follower's record themselves. */
const FOLLOWER_EVENTS = new Set(['subscribe', 'unsubscribe']);
/** How long the shutdown waits for work that went on after its answer. */
const LATE_WORK_DRAIN_MS = 10_000;

/**
 * A verified message's life: de-duplicated, the sender's interaction recorded, its handler run
 * within the time budget, the reply sent passively (encrypted in aes mode) or, when the work ran
 * late, as a customer-service text afterwards. Every failure past the checks is logged (never the
 * message's text or sender) and answered `success`: WeChat would only show the user an error.
 */
@Injectable()
export class OfficialCallbackService implements BeforeApplicationShutdown {
  private readonly logger = new Logger('OfficialCallback');
  private readonly crypt: WxBizMsgCrypt | null;
  private readonly lateWork = new Set<Promise<void>>();

  constructor(
    @Inject(OFFICIAL_ACCOUNT_SETTINGS) private readonly settings: OfficialAccountSettings,
    @Inject(CALLBACK_MESSAGES) private readonly messages: SeenKeys,
    private readonly handlers: OfficialMessageHandlers,
    private readonly followers: FollowersService,
    private readonly timing: CallbackTiming,
    @Inject(WECHAT_OFFICIAL_CLIENT) private readonly client: OfficialAccountClient | null,
    @Inject(CALLBACK_CLOCK) private readonly now: CallbackClock,
  ) {
    this.crypt = settings.encodingAesKey ? new WxBizMsgCrypt(settings.encodingAesKey, settings.appId) : null;
  }

  /**
   * The answer to a verified callback, within the budget counted from `startedAt` (ms, this
   * service's clock). `outcome` is set for the metrics.
   */
  async answer(
    verified: VerifiedCallback,
    startedAt: number,
  ): Promise<{ answer: CallbackAnswer; outcome: CallbackOutcome; message: OfficialMessage }> {
    const message = toOfficialMessage(verified.xml);
    const what = describe(message);
    try {
      if (!(await this.messages.firstTime(deduplicationKey(message)))) {
        return { answer: SUCCESS, outcome: 'duplicate', message };
      }
    } catch (error) {
      this.logger.warn(`${what}: not de-duplicated, not handled: ${failure(error)}`);
      return { answer: SUCCESS, outcome: 'success', message };
    }

    const work = this.work(message);
    const remaining = Math.max(0, startedAt + this.timing.budgetMs - this.now());
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), remaining);
    });
    const settled = work.then(
      (reply) => ({ reply }),
      (error: unknown) => ({ error }),
    );
    const first = await Promise.race([settled, late]);
    clearTimeout(timer);

    if (first === 'late') {
      this.logger.warn(`${what}: still at work after ${this.timing.budgetMs} ms; answered success`);
      this.track(this.finishLate(message, settled));
      return { answer: SUCCESS, outcome: 'late', message };
    }
    if ('error' in first) {
      this.logger.error(`${what}: handling failed: ${failure(first.error)}`);
      return { answer: SUCCESS, outcome: 'success', message };
    }
    if (!first.reply) return { answer: SUCCESS, outcome: 'success', message };
    try {
      return {
        answer: { kind: 'xml', body: this.replyXml(message, first.reply, verified) },
        outcome: 'reply',
        message,
      };
    } catch (error) {
      this.logger.error(`${what}: reply not encoded: ${failure(error)}`);
      return { answer: SUCCESS, outcome: 'success', message };
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.lateWork.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const cap = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, LATE_WORK_DRAIN_MS);
    });
    await Promise.race([Promise.allSettled([...this.lateWork]), cap]);
    clearTimeout(timer);
  }

  /** The interaction, then the message's handler, if it has one. */
  private async work(message: OfficialMessage): Promise<OfficialReply | null> {
    if (message.fromUserName && !(message.msgType === 'event' && FOLLOWER_EVENTS.has(message.event ?? ''))) {
      await this.followers.interacted(message.fromUserName, new Date(this.now()));
    }
    const handler = this.handlers.handlerFor(message);
    return handler ? handler.handle(message) : null;
  }

  /** A reply made after the answer goes out as a customer-service text (within WeChat's 48 h window). */
  private async finishLate(
    message: OfficialMessage,
    settled: Promise<{ reply: OfficialReply | null } | { error: unknown }>,
  ): Promise<void> {
    const what = describe(message);
    const result = await settled;
    if ('error' in result) {
      this.logger.error(`${what}: late handling failed: ${failure(result.error)}`);
      return;
    }
    if (!result.reply) return;
    if (!this.client || !message.fromUserName) {
      this.logger.warn(`${what}: late reply dropped (no official-account client or no sender)`);
      return;
    }
    try {
      await this.client.sendCustomText(message.fromUserName, result.reply.text);
    } catch (error) {
      this.logger.warn(`${what}: late reply not sent as a customer-service message: ${failure(error)}`);
    }
  }

  private track(work: Promise<void>): void {
    this.lateWork.add(work);
    void work.finally(() => this.lateWork.delete(work));
  }

  /** The passive reply, encrypted in aes mode with a fresh prefix and signed over its own time. */
  private replyXml(message: OfficialMessage, reply: OfficialReply, verified: VerifiedCallback): string {
    const createTime = Math.floor(this.now() / 1000);
    const xml = textReplyXml({
      toUser: message.fromUserName,
      fromUser: message.toUserName,
      createTime,
      content: reply.text,
    });
    if (verified.mode === 'plain') return xml;
    if (!this.crypt) throw new Error('aes mode without an EncodingAESKey');
    const encrypt = this.crypt.encrypt(xml);
    const msgSignature = callbackSignature([
      this.settings.token,
      String(createTime),
      verified.nonce,
      encrypt,
    ]);
    return encryptedReplyXml({ encrypt, msgSignature, timestamp: createTime, nonce: verified.nonce });
  }
}

/** What a log line may say about a message: its kind, never its text or sender. */
function describe(message: OfficialMessage): string {
  const kind = message.msgType === 'event' ? `event ${message.event ?? '?'}` : message.msgType || 'message';
  return kind.replace(/[^A-Za-z0-9_ ?-]/g, '').slice(0, 48);
}

/**
 * A failure's kind for the log: its class and code, not its message, which can quote what the
 * database or WeChat was given (a duplicate key names the openid).
 */
export function failure(error: unknown): string {
  if (!(error instanceof Error)) return typeof error;
  const code = (error as { code?: unknown }).code;
  return code === undefined ? error.name : `${error.name} ${String(code)}`;
}
