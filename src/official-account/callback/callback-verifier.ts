import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '../../common/errors/app-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import { OFFICIAL_ACCOUNT_SETTINGS, type OfficialAccountSettings } from '../official-account-settings.js';
import { CallbackRefusal } from './callback-refusal.js';
import { callbackSignature, signatureMatches } from './callback-signature.js';
import { CallbackXmlError, parseCallbackXml, textOf, type CallbackXml } from './callback-xml.js';
import type { SeenKeys } from './seen-keys.js';
import { WxBizMsgCrypt } from './wx-biz-msg-crypt.js';

/** The (timestamp, nonce) pairs of the last 600 s (the callback's replay check): a SeenKeys. */
export const CALLBACK_NONCES = Symbol('CALLBACK_NONCES');
export const NONCE_WINDOW_SECONDS = 600;

export const CALLBACK_CLOCK = Symbol('CALLBACK_CLOCK');
export type CallbackClock = () => number;

/** ±300 s around the service's clock. */
const TIMESTAMP_WINDOW_SECONDS = 300;
const ECHOSTR_MAX = 128;

export type CallbackQuery = Record<string, unknown>;

/** A POST that passed every check: its message (decrypted in aes mode) and what a reply needs. */
export interface VerifiedCallback {
  mode: 'plain' | 'aes';
  xml: CallbackXml;
  /** The request's nonce: an encrypted reply carries it back. */
  nonce: string;
}

const str = (value: unknown): string => (typeof value === 'string' ? value : '');

/**
 * The callback's checks, in the contract's order, the first failure deciding (CallbackRefusal):
 * signature; (the size, checked while reading the body); XML; for aes the key, `Encrypt` and
 * msg_signature; the timestamp; the nonce; for aes the decryption. Nothing of the message is used
 * before all of them passed.
 */
@Injectable()
export class CallbackVerifier {
  private readonly crypt: WxBizMsgCrypt | null;

  constructor(
    @Inject(OFFICIAL_ACCOUNT_SETTINGS) private readonly settings: OfficialAccountSettings,
    @Inject(CALLBACK_NONCES) private readonly nonces: SeenKeys,
    @Inject(CALLBACK_CLOCK) private readonly now: CallbackClock,
  ) {
    this.crypt = settings.encodingAesKey ? new WxBizMsgCrypt(settings.encodingAesKey, settings.appId) : null;
  }

  /** The first check, for GET and POST alike (and for a body refused while it was read). */
  checkSignature(query: CallbackQuery): void {
    const expected = callbackSignature([this.settings.token, str(query.timestamp), str(query.nonce)]);
    if (!signatureMatches(expected, query.signature)) throw new CallbackRefusal('invalid signature');
  }

  /** GET (the URL check in the OA admin): the `echostr` to answer verbatim. */
  async verifyGet(query: CallbackQuery): Promise<string> {
    this.checkSignature(query);
    await this.checkFreshness(query);
    const echostr = query.echostr;
    const length = typeof echostr === 'string' ? [...echostr].length : 0;
    if (typeof echostr !== 'string' || length < 1 || length > ECHOSTR_MAX)
      throw new CallbackRefusal('bad request');
    return echostr;
  }

  /** POST, its body already read within the size limit. */
  async verifyPost(query: CallbackQuery, body: Buffer): Promise<VerifiedCallback> {
    this.checkSignature(query);
    const outer = parse(body);
    const encryptType = query.encrypt_type;
    if (encryptType === undefined || encryptType === 'raw') {
      await this.checkFreshness(query);
      return { mode: 'plain', xml: outer, nonce: str(query.nonce) };
    }
    if (encryptType !== 'aes' || !this.crypt) throw new CallbackRefusal('bad request');
    const encrypt = textOf(outer, 'Encrypt');
    if (!encrypt) throw new CallbackRefusal('bad request');
    const expected = callbackSignature([
      this.settings.token,
      str(query.timestamp),
      str(query.nonce),
      encrypt,
    ]);
    if (!signatureMatches(expected, query.msg_signature)) throw new CallbackRefusal('invalid signature');
    await this.checkFreshness(query);
    let inner: string;
    try {
      inner = this.crypt.decrypt(encrypt);
    } catch {
      throw new CallbackRefusal('bad request');
    }
    // Only the decrypted message counts: plaintext siblings of Encrypt (compatible mode) are unsigned.
    return { mode: 'aes', xml: parse(inner), nonce: str(query.nonce) };
  }

  /** The crypt of compatible and safe mode (an encrypted reply needs it); null without a key. */
  get messageCrypt(): WxBizMsgCrypt | null {
    return this.crypt;
  }

  private async checkFreshness(query: CallbackQuery): Promise<void> {
    const timestamp = str(query.timestamp);
    const seconds = /^[0-9]{1,15}$/.test(timestamp) ? Number(timestamp) : NaN;
    if (!(Math.abs(this.now() / 1000 - seconds) <= TIMESTAMP_WINDOW_SECONDS)) {
      throw new CallbackRefusal('expired timestamp');
    }
    let first: boolean;
    try {
      first = await this.nonces.firstTime(`${timestamp}:${str(query.nonce)}`);
    } catch (error) {
      if (error instanceof AppError && error.code === ErrorCode.DEPENDENCY_UNAVAILABLE) {
        throw new CallbackRefusal('unavailable');
      }
      throw error;
    }
    if (!first) throw new CallbackRefusal('replayed nonce');
  }
}

function parse(body: Buffer | string): CallbackXml {
  try {
    return parseCallbackXml(body);
  } catch (error) {
    if (error instanceof CallbackXmlError) throw new CallbackRefusal('bad request');
    throw error;
  }
}
