/**
 * Builds the official account's server callbacks exactly as WeChat sends them, for tests that post
 * them to the service (and for trying a running service by hand), and reads the service's replies.
 *
 *   const oa = new OaCallbackBuilder({ token, encodingAesKey, appId });   // the service's WECHAT_OA_*
 *   // GET: the URL check.
 *   const check = oa.verify('echo-123');
 *   await h.http().get(check.path);                                        // → 200 "echo-123"
 *   // POST: a message in each mode (fresh timestamp and nonce every time).
 *   const text = oa.text({ from: openid, content: 'hello' });
 *   const req = oa.safe(text);                                             // or plaintext / compatible
 *   const res = await h.http().post(req.path).set('Content-Type', req.contentType).send(req.body);
 *   const reply = oa.readReply(res.text, req);  // { kind: 'success' } | { kind: 'plain' | 'encrypted', xml, fields }
 *
 * What it does, as WeChat does:
 * - `signature` = hex sha1 of the sorted, concatenated [token, timestamp, nonce]; `timestamp` is the
 *   Unix time in seconds and `nonce` a decimal string, both fresh per request unless given;
 * - plaintext: the message XML as the body, query signature, timestamp, nonce, openid;
 * - compatible: the plaintext fields and `<Encrypt>` side by side, query encrypt_type=aes and
 *   msg_signature = hex sha1 of the sorted [token, timestamp, nonce, Encrypt];
 * - safe: only `<ToUserName>` and `<Encrypt>`;
 * - Encrypt (WXBizMsgCrypt) = base64 of AES-256-CBC, key = base64decode(EncodingAESKey + "="),
 *   IV = key[0..16], over random(16) ‖ uint32be(length) ‖ XML ‖ app id, PKCS#7-padded to 32 bytes.
 * Every part can be overridden (`Overrides`) to build the callbacks the service must refuse: a wrong
 * or missing signature, an old timestamp, a replayed nonce, another app id inside, a bad padding.
 * readReply() checks an encrypted reply as WeChat would (MsgSignature over its TimeStamp and Nonce,
 * the request's nonce echoed, padding, app id) and throws an Error saying what is wrong.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, randomInt } from 'node:crypto';

/** Tencent's WXBizMsgCrypt sample values, a callback setup that works out of the box. */
export const SAMPLE_TOKEN = 'spamtest';
export const SAMPLE_ENCODING_AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
export const SAMPLE_APP_ID = 'wx2c2769f8efd9abc2';
/** The official account's own id (`gh_…`), the ToUserName of every message to it. */
export const SAMPLE_ACCOUNT = 'gh_10f6c3c3ac5a';

export const CALLBACK_PATH = '/api/v1/wechat/official/callback';

export interface OaCallbackOptions {
  token?: string;
  /** Needed for compatible and safe mode. */
  encodingAesKey?: string;
  /** The app id written after the message inside Encrypt (and expected in encrypted replies). */
  appId?: string;
  /** The official account's `gh_…` id, ToUserName of the messages built here. */
  account?: string;
  path?: string;
}

export interface Overrides {
  /** Unix seconds; default now. */
  timestamp?: number | string;
  /** Default a fresh random decimal string. */
  nonce?: string;
  /** Replaces the computed `signature`. */
  signature?: string;
  /** Replaces the computed `msg_signature`. */
  msgSignature?: string;
  /** Replaces `encrypt_type` (default `aes` in compatible and safe mode, absent in plaintext). */
  encryptType?: string;
  /** Query parameters left out entirely. */
  omit?: Array<'signature' | 'timestamp' | 'nonce' | 'echostr' | 'msg_signature' | 'encrypt_type' | 'openid'>;
  /** The query's `openid` (default the message's FromUserName). */
  openid?: string;
  /** Extra query parameters. */
  query?: Record<string, string>;
  /** The 16 random bytes before the message inside Encrypt. */
  random?: Buffer;
  /** The app id inside Encrypt (another account's, to be refused). */
  appId?: string;
  /** Encrypt as given instead of encrypting the message (a broken ciphertext, a published one). */
  encrypt?: string;
  /** Compatible mode: the plaintext fields beside Encrypt (default the message's own). */
  siblings?: string;
}

export interface CallbackRequest {
  method: 'GET' | 'POST';
  /** Path and query, ready for supertest: `h.http().post(req.path)`. */
  path: string;
  query: Record<string, string>;
  /** The XML body (POST). */
  body?: string;
  contentType: string;
  timestamp: string;
  nonce: string;
  /** The Encrypt value sent (compatible and safe mode). */
  encrypt?: string;
}

export type CallbackReply =
  { kind: 'success' } | { kind: 'plain' | 'encrypted'; xml: string; fields: Record<string, string> };

// ------------------------------------------------------------------ signatures and crypto

const sha1 = (text: string) => createHash('sha1').update(text, 'utf8').digest('hex');
/** WeChat sorts the parts as byte strings (the parts are ASCII: code-unit order is the same). */
const sortedJoin = (parts: string[]) => [...parts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).join('');

export function plainSignature(token: string, timestamp: string | number, nonce: string): string {
  return sha1(sortedJoin([token, String(timestamp), nonce]));
}

export function msgSignature(
  token: string,
  timestamp: string | number,
  nonce: string,
  encrypt: string,
): string {
  return sha1(sortedJoin([token, String(timestamp), nonce, encrypt]));
}

/** The 32 bytes of an EncodingAESKey. */
export function aesKeyOf(encodingAesKey: string): Buffer {
  const key = Buffer.from(`${encodingAesKey}=`, 'base64');
  if (encodingAesKey.length !== 43 || key.length !== 32)
    throw new Error('an EncodingAESKey is 43 characters');
  return key;
}

/** PKCS#7 to `block` bytes (WeChat: 32, so pad values run 1–32). */
export function pkcs7Pad(data: Buffer, block = 32): Buffer {
  const pad = block - (data.length % block);
  return Buffer.concat([data, Buffer.alloc(pad, pad)]);
}

/** Encrypt of `xml` for `appId`, as WeChat makes it. `random`: the 16-byte prefix (fresh by default). */
export function encryptMessage(
  xml: string,
  options: { encodingAesKey: string; appId: string; random?: Buffer },
): string {
  const key = aesKeyOf(options.encodingAesKey);
  const random = options.random ?? randomBytes(16);
  if (random.length !== 16) throw new Error('the random prefix is 16 bytes');
  const message = Buffer.from(xml, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(message.length);
  const plain = pkcs7Pad(Buffer.concat([random, length, message, Buffer.from(options.appId, 'utf8')]));
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
  return Buffer.concat([cipher.update(plain), cipher.final()]).toString('base64');
}

/** The parts of an Encrypt value; throws on a bad padding or length. */
export function decryptMessage(
  encrypt: string,
  encodingAesKey: string,
): { random: Buffer; xml: string; appId: string; pad: number } {
  const key = aesKeyOf(encodingAesKey);
  const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
  const plain = Buffer.concat([decipher.update(Buffer.from(encrypt, 'base64')), decipher.final()]);
  const pad = plain[plain.length - 1];
  if (plain.length % 32 !== 0 || pad < 1 || pad > 32 || !plain.subarray(-pad).every((b) => b === pad)) {
    throw new Error('bad PKCS#7 padding (32-byte blocks)');
  }
  const body = plain.subarray(0, plain.length - pad);
  const length = body.readUInt32BE(16);
  if (20 + length > body.length) throw new Error('the message length runs past the plaintext');
  return {
    random: body.subarray(0, 16),
    xml: body.subarray(20, 20 + length).toString('utf8'),
    appId: body.subarray(20 + length).toString('utf8'),
    pad,
  };
}

/** `<![CDATA[…]]>`, a `]]>` inside split across two sections as WeChat (and the contract) do. */
export function cdata(text: string): string {
  return `<![CDATA[${text.replaceAll(']]>', ']]]]><![CDATA[>')}]]>`;
}

/**
 * The top-level elements of a flat `<xml>` document (WeChat's messages and replies) as text, CDATA
 * sections joined. Nested elements (ScanCodeInfo…) come back as their raw inner XML.
 */
export function readXmlFields(xml: string): Record<string, string> {
  const match = /^\s*<xml>([\s\S]*)<\/xml>\s*$/.exec(xml);
  if (!match) throw new Error(`not an <xml> document: ${xml.slice(0, 200)}`);
  const inner = match[1];
  const fields: Record<string, string> = {};
  let at = 0;
  while (at < inner.length) {
    const open = /^\s*<([A-Za-z_][\w.-]*)>/.exec(inner.slice(at));
    if (!open) {
      if (inner.slice(at).trim() === '') break;
      throw new Error(`unexpected XML at ${inner.slice(at, at + 40)}`);
    }
    const name = open[1];
    at += open[0].length;
    let text = '';
    for (;;) {
      if (at >= inner.length) throw new Error(`<${name}> is not closed`);
      if (inner.startsWith('<![CDATA[', at)) {
        const end = inner.indexOf(']]>', at);
        text += inner.slice(at + 9, end);
        at = end + 3;
      } else if (inner.startsWith(`</${name}>`, at)) {
        at += name.length + 3;
        break;
      } else if (inner.startsWith('<', at)) {
        // A nested element (ScanCodeInfo…): its raw XML, up to this element's end.
        const close = inner.indexOf(`</${name}>`, at);
        if (close < 0) throw new Error(`<${name}> is not closed`);
        text += inner.slice(at, close);
        at = close;
      } else {
        const next = inner.indexOf('<', at);
        text += inner.slice(at, next < 0 ? inner.length : next);
        at = next < 0 ? inner.length : next;
      }
    }
    fields[name] = text;
  }
  return fields;
}

// ------------------------------------------------------------------ the builder

export class OaCallbackBuilder {
  readonly token: string;
  readonly encodingAesKey?: string;
  readonly appId: string;
  readonly account: string;
  readonly path: string;
  private msgSeq = 6054768590064713728n + BigInt(randomInt(1, 1_000_000_000));

  constructor(options: OaCallbackOptions = {}) {
    this.token = options.token ?? SAMPLE_TOKEN;
    this.encodingAesKey = options.encodingAesKey;
    this.appId = options.appId ?? SAMPLE_APP_ID;
    this.account = options.account ?? SAMPLE_ACCOUNT;
    this.path = options.path ?? CALLBACK_PATH;
  }

  /** A fresh nonce as WeChat sends them (a decimal string). */
  static nonce(): string {
    return String(randomInt(100_000_000, 2_000_000_000));
  }

  static now(): number {
    return Math.floor(Date.now() / 1000);
  }

  // ---------------------------------------------------------------- messages

  /** A text message from `from` (an OA openid), with a fresh 64-bit MsgId unless given. */
  text(message: { from: string; content: string; msgId?: string; createTime?: number; to?: string }): string {
    return (
      `<xml><ToUserName>${cdata(message.to ?? this.account)}</ToUserName>` +
      `<FromUserName>${cdata(message.from)}</FromUserName>` +
      `<CreateTime>${message.createTime ?? OaCallbackBuilder.now()}</CreateTime>` +
      `<MsgType>${cdata('text')}</MsgType><Content>${cdata(message.content)}</Content>` +
      `<MsgId>${message.msgId ?? this.nextMsgId()}</MsgId></xml>`
    );
  }

  /**
   * An event (`subscribe` with an optional `qrscene_…` EventKey and Ticket, `unsubscribe`, `SCAN`,
   * `CLICK` with the button's key, `VIEW` with the URL, …). Events carry no MsgId.
   */
  event(message: {
    from: string;
    event: string;
    eventKey?: string;
    ticket?: string;
    createTime?: number;
    to?: string;
  }): string {
    return (
      `<xml><ToUserName>${cdata(message.to ?? this.account)}</ToUserName>` +
      `<FromUserName>${cdata(message.from)}</FromUserName>` +
      `<CreateTime>${message.createTime ?? OaCallbackBuilder.now()}</CreateTime>` +
      `<MsgType>${cdata('event')}</MsgType><Event>${cdata(message.event)}</Event>` +
      (message.eventKey === undefined ? '' : `<EventKey>${cdata(message.eventKey)}</EventKey>`) +
      (message.ticket === undefined ? '' : `<Ticket>${cdata(message.ticket)}</Ticket>`) +
      `</xml>`
    );
  }

  /** Another message type (image, location, link…) with its own fields, written as given. */
  message(message: {
    from: string;
    msgType: string;
    fields?: string;
    msgId?: string;
    createTime?: number;
  }): string {
    return (
      `<xml><ToUserName>${cdata(this.account)}</ToUserName><FromUserName>${cdata(message.from)}</FromUserName>` +
      `<CreateTime>${message.createTime ?? OaCallbackBuilder.now()}</CreateTime>` +
      `<MsgType>${cdata(message.msgType)}</MsgType>${message.fields ?? ''}` +
      `<MsgId>${message.msgId ?? this.nextMsgId()}</MsgId></xml>`
    );
  }

  nextMsgId(): string {
    this.msgSeq += 1n;
    return this.msgSeq.toString();
  }

  // ---------------------------------------------------------------- requests

  /** GET: the URL check WeChat makes when the callback URL is saved (echostr is never encrypted). */
  verify(echostr = `echo${randomInt(1, 1e9)}`, overrides: Overrides = {}): CallbackRequest {
    const { timestamp, nonce } = this.moment(overrides);
    const query: Record<string, string> = {
      signature: overrides.signature ?? plainSignature(this.token, timestamp, nonce),
      echostr,
      timestamp,
      nonce,
      ...overrides.query,
    };
    return this.request('GET', query, overrides, { timestamp, nonce });
  }

  /** POST in plaintext mode: the message XML as it is. */
  plaintext(xml: string, overrides: Overrides = {}): CallbackRequest {
    const { timestamp, nonce } = this.moment(overrides);
    const query: Record<string, string> = {
      signature: overrides.signature ?? plainSignature(this.token, timestamp, nonce),
      timestamp,
      nonce,
      openid: overrides.openid ?? fromOf(xml),
      ...(overrides.encryptType === undefined ? {} : { encrypt_type: overrides.encryptType }),
      ...overrides.query,
    };
    return this.request('POST', query, overrides, { timestamp, nonce, body: xml });
  }

  /** POST in compatible mode: the plaintext fields (`siblings`) and Encrypt side by side. */
  compatible(xml: string, overrides: Overrides = {}): CallbackRequest {
    const encrypt = overrides.encrypt ?? this.encrypt(xml, overrides);
    const siblings = (overrides.siblings ?? xml).replace(/<\/xml>\s*$/, '');
    return this.encrypted(`${siblings}<Encrypt>${cdata(encrypt)}</Encrypt></xml>`, encrypt, xml, overrides);
  }

  /** POST in safe mode: ToUserName and Encrypt only. */
  safe(xml: string, overrides: Overrides = {}): CallbackRequest {
    const encrypt = overrides.encrypt ?? this.encrypt(xml, overrides);
    const to = safeField(xml, 'ToUserName') ?? this.account;
    return this.encrypted(
      `<xml><ToUserName>${cdata(to)}</ToUserName><Encrypt>${cdata(encrypt)}</Encrypt></xml>`,
      encrypt,
      xml,
      overrides,
    );
  }

  /** Encrypt of `xml` with this builder's key and app id (or the overrides'). */
  encrypt(xml: string, overrides: Pick<Overrides, 'random' | 'appId'> = {}): string {
    if (!this.encodingAesKey) throw new Error('compatible and safe mode need encodingAesKey');
    return encryptMessage(xml, {
      encodingAesKey: this.encodingAesKey,
      appId: overrides.appId ?? this.appId,
      random: overrides.random,
    });
  }

  // ---------------------------------------------------------------- replies

  /**
   * The service's answer to `request`, checked as WeChat would: `success` (never encrypted); a
   * plaintext XML reply; or, in compatible and safe mode, the `<Encrypt>` wrapper whose MsgSignature
   * covers its own TimeStamp and Nonce, whose Nonce is the request's, and whose Encrypt decrypts
   * (32-byte PKCS#7) to a reply for this app id.
   */
  readReply(text: string, request?: CallbackRequest): CallbackReply {
    if (text === 'success' || text === '') return { kind: 'success' };
    const outer = readXmlFields(text);
    if (outer.Encrypt === undefined) return { kind: 'plain', xml: text, fields: outer };
    if (!this.encodingAesKey) throw new Error('an encrypted reply, but no encodingAesKey to read it');
    const { Encrypt: encrypt, MsgSignature: signature, TimeStamp: timestamp, Nonce: nonce } = outer;
    if (!signature || !timestamp || !nonce) throw new Error(`the reply wrapper lacks a field: ${text}`);
    if (!/^\d+$/.test(timestamp)) throw new Error(`TimeStamp is not an integer: ${timestamp}`);
    if (signature !== msgSignature(this.token, timestamp, nonce, encrypt)) {
      throw new Error('the reply MsgSignature does not match its TimeStamp, Nonce and Encrypt');
    }
    if (request && nonce !== request.nonce) throw new Error('the reply Nonce is not the request nonce');
    const inner = decryptMessage(encrypt, this.encodingAesKey);
    if (inner.appId !== this.appId) throw new Error(`the reply is encrypted for ${inner.appId}`);
    return { kind: 'encrypted', xml: inner.xml, fields: readXmlFields(inner.xml) };
  }

  // ---------------------------------------------------------------- helpers

  private encrypted(body: string, encrypt: string, xml: string, overrides: Overrides): CallbackRequest {
    const { timestamp, nonce } = this.moment(overrides);
    const query: Record<string, string> = {
      signature: overrides.signature ?? plainSignature(this.token, timestamp, nonce),
      timestamp,
      nonce,
      openid: overrides.openid ?? fromOf(xml),
      encrypt_type: overrides.encryptType ?? 'aes',
      msg_signature: overrides.msgSignature ?? msgSignature(this.token, timestamp, nonce, encrypt),
      ...overrides.query,
    };
    return this.request('POST', query, overrides, { timestamp, nonce, body, encrypt });
  }

  private moment(overrides: Overrides): { timestamp: string; nonce: string } {
    return {
      timestamp: String(overrides.timestamp ?? OaCallbackBuilder.now()),
      nonce: overrides.nonce ?? OaCallbackBuilder.nonce(),
    };
  }

  private request(
    method: 'GET' | 'POST',
    query: Record<string, string>,
    overrides: Overrides,
    parts: { timestamp: string; nonce: string; body?: string; encrypt?: string },
  ): CallbackRequest {
    for (const name of overrides.omit ?? []) delete query[name];
    return {
      method,
      path: `${this.path}?${new URLSearchParams(query).toString()}`,
      query,
      body: parts.body,
      contentType: 'text/xml',
      timestamp: parts.timestamp,
      nonce: parts.nonce,
      encrypt: parts.encrypt,
    };
  }
}

function safeField(xml: string, name: string): string | undefined {
  try {
    return readXmlFields(xml)[name];
  } catch {
    return undefined;
  }
}

function fromOf(xml: string): string {
  return safeField(xml, 'FromUserName') ?? '';
}
