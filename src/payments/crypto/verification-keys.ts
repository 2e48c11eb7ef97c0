import type { KeyObject } from 'node:crypto';

/** The WeChat Pay keys a `Wechatpay-Serial` may name: a public key id or a platform certificate serial. */
export interface VerificationKeys {
  /** The key for this serial, or undefined when none is known (the signature is then unverifiable). */
  keyFor(serial: string): Promise<KeyObject | undefined>;
}

/** Platform certificate serials are hex, written in upper case by WeChat Pay; compare them so. */
export function normalizeSerial(serial: string): string {
  return serial.toUpperCase();
}

/** A fixed set of keys: the WeChat Pay public key, the sandbox's, the certificates of one answer. */
export class StaticKeys implements VerificationKeys {
  private readonly keys: ReadonlyMap<string, KeyObject>;

  constructor(keys: Iterable<[string, KeyObject]>) {
    this.keys = new Map(keys);
  }

  get size(): number {
    return this.keys.size;
  }

  keyFor(serial: string): Promise<KeyObject | undefined> {
    return Promise.resolve(this.keys.get(serial));
  }
}

/**
 * "Mixed mode": a serial equal to the WeChat Pay public key's id selects that key, any other one the
 * platform certificate with that serial. Merchants moving from certificates to the public key see
 * both for a while, so neither kind alone would do; with only the public key configured, a serial
 * that is not its id is still looked up among certificates (the lookup then finds nothing).
 */
export class SerialKeySource implements VerificationKeys {
  constructor(
    private readonly publicKey: { id: string; key: KeyObject } | undefined,
    private readonly certificates: VerificationKeys | undefined,
  ) {}

  keyFor(serial: string): Promise<KeyObject | undefined> {
    if (this.publicKey && serial === this.publicKey.id) return Promise.resolve(this.publicKey.key);
    return this.certificates ? this.certificates.keyFor(serial) : Promise.resolve(undefined);
  }
}
