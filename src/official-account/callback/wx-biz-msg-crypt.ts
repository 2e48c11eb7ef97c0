import { createCipheriv, createDecipheriv, randomInt } from 'node:crypto';

/** WeChat pads to a 32-byte block (pad values 1–32), not AES's 16. */
const BLOCK = 32;
const PREFIX_BYTES = 16;
const LENGTH_BYTES = 4;
const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Why a message did not decrypt; never shown to the caller (the answer is `bad request`). */
export class MessageDecryptError extends Error {
  override name = 'MessageDecryptError';
}

/**
 * Tencent's WXBizMsgCrypt for compatible and safe mode: AES-256-CBC with the key
 * base64(EncodingAESKey + "=") and its first 16 bytes as the IV, over
 * random(16) ‖ uint32be(length) ‖ message ‖ app id, padded PKCS#7 to 32 bytes. The app id at the end
 * is what ties a message to this account: one made for another account is refused.
 */
export class WxBizMsgCrypt {
  private readonly key: Buffer;
  private readonly iv: Buffer;

  constructor(
    encodingAesKey: string,
    private readonly appId: string,
  ) {
    if (!/^[A-Za-z0-9]{43}$/.test(encodingAesKey)) {
      throw new Error('the EncodingAESKey must be 43 characters of A-Za-z0-9');
    }
    this.key = Buffer.from(`${encodingAesKey}=`, 'base64');
    this.iv = this.key.subarray(0, 16);
  }

  /** The XML inside `encrypt` (the base64 of the `Encrypt` element), or MessageDecryptError. */
  decrypt(encrypt: string): string {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encrypt) || encrypt.length % 4 !== 0) {
      throw new MessageDecryptError('not base64');
    }
    const cipherText = Buffer.from(encrypt, 'base64');
    if (cipherText.length === 0 || cipherText.length % 16 !== 0) {
      throw new MessageDecryptError('not a whole number of AES blocks');
    }
    const decipher = createDecipheriv('aes-256-cbc', this.key, this.iv).setAutoPadding(false);
    const padded = Buffer.concat([decipher.update(cipherText), decipher.final()]);
    const plain = unpad(padded);
    if (plain.length < PREFIX_BYTES + LENGTH_BYTES) throw new MessageDecryptError('too short');
    const length = plain.readUInt32BE(PREFIX_BYTES);
    const start = PREFIX_BYTES + LENGTH_BYTES;
    if (length > plain.length - start) throw new MessageDecryptError('length past the end');
    const appId = plain.subarray(start + length);
    if (!appId.equals(Buffer.from(this.appId, 'utf8'))) {
      throw new MessageDecryptError('made for another app id');
    }
    try {
      return strictUtf8.decode(plain.subarray(start, start + length));
    } catch {
      throw new MessageDecryptError('not UTF-8');
    }
  }

  /**
   * The base64 `Encrypt` of `xml`, with a fresh random prefix (16 characters of A-Za-z0-9, as
   * Tencent's own code makes it) unless one is given (tests).
   */
  encrypt(xml: string, prefix: Buffer = randomPrefix()): string {
    if (prefix.length !== PREFIX_BYTES) throw new Error('the random prefix is 16 bytes');
    const message = Buffer.from(xml, 'utf8');
    const length = Buffer.alloc(LENGTH_BYTES);
    length.writeUInt32BE(message.length);
    const plain = pad(Buffer.concat([prefix, length, message, Buffer.from(this.appId, 'utf8')]));
    const cipher = createCipheriv('aes-256-cbc', this.key, this.iv).setAutoPadding(false);
    return Buffer.concat([cipher.update(plain), cipher.final()]).toString('base64');
  }
}

function pad(data: Buffer): Buffer {
  const n = BLOCK - (data.length % BLOCK);
  return Buffer.concat([data, Buffer.alloc(n, n)]);
}

/** PKCS#7 with values 1–32, every pad byte checked (a 16-byte padder's output is accepted too). */
function unpad(data: Buffer): Buffer {
  const n = data[data.length - 1];
  if (n < 1 || n > BLOCK || n > data.length) throw new MessageDecryptError('bad padding');
  for (let i = data.length - n; i < data.length; i++) {
    if (data[i] !== n) throw new MessageDecryptError('bad padding');
  }
  return data.subarray(0, data.length - n);
}

function randomPrefix(): Buffer {
  let prefix = '';
  for (let i = 0; i < PREFIX_BYTES; i++) prefix += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return Buffer.from(prefix, 'ascii');
}
