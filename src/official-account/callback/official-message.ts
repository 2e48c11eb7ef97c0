import { textOf, type CallbackXml } from './callback-xml.js';

/**
 * One message or event of the callback, as its handlers see it (the decrypted one in compatible
 * and safe mode). The named fields are the common ones; `xml` has every element for the rest
 * (Ticket, ScanCodeInfo, Latitude, …).
 */
export interface OfficialMessage {
  /** The account's original id (gh_…). */
  toUserName: string;
  /** The sender's openid in the official account. Never logged, never in a response. */
  fromUserName: string;
  /** Unix seconds as WeChat sent them (0 when absent or not a number). */
  createTime: number;
  /** `text`, `image`, `event`, … as sent. */
  msgType: string;
  /** Events: `subscribe`, `unsubscribe`, `SCAN`, `CLICK`, `VIEW`, … as sent. */
  event?: string;
  eventKey?: string;
  /** Text messages: the text as sent, not trimmed. */
  content?: string;
  /** A 64-bit decimal: kept as the string WeChat sent. */
  msgId?: string;
  xml: CallbackXml;
}

/** What a handler answers with: a text for the sender, or nothing (`success`). */
export interface OfficialReply {
  text: string;
}

export function toOfficialMessage(xml: CallbackXml): OfficialMessage {
  const createTime = Number(textOf(xml, 'CreateTime'));
  return {
    toUserName: textOf(xml, 'ToUserName') ?? '',
    fromUserName: textOf(xml, 'FromUserName') ?? '',
    createTime: Number.isSafeInteger(createTime) ? createTime : 0,
    msgType: textOf(xml, 'MsgType') ?? '',
    event: textOf(xml, 'Event'),
    eventKey: textOf(xml, 'EventKey'),
    content: textOf(xml, 'Content'),
    msgId: textOf(xml, 'MsgId'),
    xml,
  };
}

/** The metrics' `type` of a message: text, event, or other. */
export function messageType(message: OfficialMessage): 'text' | 'event' | 'other' {
  return message.msgType === 'text' ? 'text' : message.msgType === 'event' ? 'event' : 'other';
}

/**
 * What tells WeChat's retries of one message apart from new ones: MsgId for messages, and for
 * events (which have none) the sender, the time and the event.
 */
export function deduplicationKey(message: OfficialMessage): string {
  if (message.msgId) return `msg:${message.msgId}`;
  return `event:${message.fromUserName}:${message.createTime}:${message.event ?? message.msgType}`;
}
