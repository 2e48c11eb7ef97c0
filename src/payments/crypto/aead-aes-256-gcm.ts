import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** An `encrypt_certificate` or a notification's `resource`, as WeChat Pay writes it. */
export interface EncryptedResource {
  algorithm?: string;
  /** base64 of the encrypted data followed by the 16-byte GCM tag. */
  ciphertext: string;
  nonce: string;
  associated_data?: string;
}

export const AEAD_ALGORITHM = 'AEAD_AES_256_GCM';
const TAG_BYTES = 16;

/** Thrown for a resource that does not decrypt: a wrong APIv3 key, a forged or damaged body. */
export class DecryptionFailed extends Error {
  constructor(message = 'the resource does not decrypt') {
    super(message);
    this.name = 'DecryptionFailed';
  }
}

/** Decrypts what WeChat Pay encrypts with the APIv3 key. */
export interface ResourceDecryptor {
  decrypt(resource: EncryptedResource): Buffer;
}

/**
 * AEAD_AES_256_GCM as WeChat Pay uses it: key = the APIv3 key's 32 bytes, nonce and associated
 * data = the bytes of their strings, ciphertext = base64(data ‖ tag). Encryption is here for the
 * sandbox, which plays WeChat Pay's side.
 */
export class AeadAes256Gcm implements ResourceDecryptor {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('an AEAD_AES_256_GCM key is 32 bytes');
  }

  decrypt(resource: EncryptedResource): Buffer {
    if (resource.algorithm !== undefined && resource.algorithm !== AEAD_ALGORITHM) {
      throw new DecryptionFailed(`unsupported algorithm`);
    }
    if (typeof resource.ciphertext !== 'string' || typeof resource.nonce !== 'string' || !resource.nonce) {
      throw new DecryptionFailed('the resource lacks its ciphertext or nonce');
    }
    const aad = resource.associated_data ?? '';
    if (typeof aad !== 'string') throw new DecryptionFailed('associated_data is not a string');
    const sealed = Buffer.from(resource.ciphertext, 'base64');
    // Buffer.from skips what is not base64; a ciphertext it changed is not WeChat Pay's.
    if (sealed.length <= TAG_BYTES || sealed.toString('base64') !== resource.ciphertext.replace(/\s/g, '')) {
      throw new DecryptionFailed('the ciphertext is not base64 of data and tag');
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(resource.nonce, 'utf8'), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      return Buffer.concat([
        decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      throw new DecryptionFailed();
    }
  }

  encrypt(plaintext: Buffer | string, associatedData: string, nonce = randomNonce()): EncryptedResource {
    const cipher = createCipheriv('aes-256-gcm', this.key, Buffer.from(nonce, 'utf8'), {
      authTagLength: TAG_BYTES,
    });
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const data = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return {
      algorithm: AEAD_ALGORITHM,
      ciphertext: data.toString('base64'),
      associated_data: associatedData,
      nonce,
    };
  }
}

/** 12 characters, as WeChat Pay's nonces are. */
function randomNonce(): string {
  return randomBytes(9).toString('base64url');
}
