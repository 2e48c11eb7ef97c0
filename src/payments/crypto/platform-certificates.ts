import { X509Certificate, type KeyObject } from 'node:crypto';
import type { ResourceDecryptor, EncryptedResource } from './aead-aes-256-gcm.js';
import { systemClock, type Clock } from './nonce-and-clock.js';
import { WechatPaySignatureVerifier, type HeaderBag } from './signature-verifier.js';
import { normalizeSerial, StaticKeys, type VerificationKeys } from './verification-keys.js';

/** A platform certificate's key, by serial, until the certificate's end. */
export interface PlatformKey {
  serial: string;
  key: KeyObject;
  /** Epoch ms after which the certificate no longer vouches for the key. */
  notAfter: number;
}

/** Fetches the current platform certificates (GET /v3/certificates, verified and decrypted). */
export type CertificateDownload = () => Promise<PlatformKey[]>;

/** The minimum time between two downloads of one instance, start-up included. */
export const CERTIFICATE_DOWNLOAD_INTERVAL_MS = 60_000;

/**
 * The platform certificates this instance holds, fetched again when a signature names a serial it
 * does not hold (a rotation), at most once per 60 s: a stream of bogus serials then costs one
 * download a minute, not one per message. Concurrent lookups share the download in flight. A
 * failed download keeps the certificates held before it.
 */
export class PlatformCertificates implements VerificationKeys {
  private keys = new Map<string, PlatformKey>();
  private lastAttempt = Number.NEGATIVE_INFINITY;
  private inflight: Promise<void> | undefined;
  private attempts = 0;

  constructor(
    private readonly download: CertificateDownload,
    private readonly options: {
      clock?: Clock;
      intervalMs?: number;
      onFailure?: (error: unknown) => void;
    } = {},
  ) {}

  /** Downloads started so far (tests, and the start-up log). */
  get downloads(): number {
    return this.attempts;
  }

  async keyFor(serial: string): Promise<KeyObject | undefined> {
    const wanted = normalizeSerial(serial);
    const held = this.usable(wanted);
    if (held) return held;
    if (this.inflight) {
      await this.inflight;
    } else if (
      this.now() - this.lastAttempt >=
      (this.options.intervalMs ?? CERTIFICATE_DOWNLOAD_INTERVAL_MS)
    ) {
      await this.refresh();
    }
    return this.usable(wanted);
  }

  /** Downloads now (start-up), or joins the download in flight; never rejects. */
  refresh(): Promise<void> {
    if (this.inflight) return this.inflight;
    this.lastAttempt = this.now();
    this.attempts++;
    this.inflight = this.download()
      .then((keys) => {
        this.keys = new Map(keys.map((entry) => [normalizeSerial(entry.serial), entry]));
      })
      .catch((error: unknown) => this.options.onFailure?.(error))
      .finally(() => {
        this.inflight = undefined;
      });
    return this.inflight;
  }

  private usable(serial: string): KeyObject | undefined {
    const entry = this.keys.get(serial);
    return entry && entry.notAfter > this.now() ? entry.key : undefined;
  }

  private now(): number {
    return (this.options.clock ?? systemClock)();
  }
}

/** Thrown for a /v3/certificates answer that cannot be used. */
export class CertificatesUnusable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CertificatesUnusable';
  }
}

/**
 * The keys of a /v3/certificates answer: each `encrypt_certificate` decrypted with the APIv3 key
 * into a PEM certificate whose serial must be its `serial_no`; expired ones dropped. The answer is
 * then verified with one of the certificates it carries (it is signed with one of them), which
 * rejects VerificationFailed; anything else wrong with it rejects CertificatesUnusable.
 */
export async function readCertificatesAnswer(
  headers: HeaderBag,
  body: Buffer,
  decryptor: ResourceDecryptor,
  clock: Clock = systemClock,
): Promise<PlatformKey[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new CertificatesUnusable('the certificates answer is not JSON');
  }
  const data = (parsed as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) throw new CertificatesUnusable('the certificates answer has no data list');
  const keys: PlatformKey[] = [];
  for (const item of data as Array<{ serial_no?: unknown; encrypt_certificate?: unknown }>) {
    const serial = item?.serial_no;
    const encrypted = item?.encrypt_certificate as EncryptedResource | undefined;
    if (typeof serial !== 'string' || !serial || !encrypted || typeof encrypted !== 'object') {
      throw new CertificatesUnusable('a certificate entry lacks serial_no or encrypt_certificate');
    }
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(decryptor.decrypt(encrypted));
    } catch {
      throw new CertificatesUnusable('a certificate does not decrypt to an X.509 certificate');
    }
    if (sameSerial(certificate.serialNumber, serial) === false) {
      throw new CertificatesUnusable('a certificate does not carry the serial it is listed under');
    }
    const notAfter = Date.parse(certificate.validTo);
    if (!(notAfter > clock())) continue;
    keys.push({ serial, key: certificate.publicKey, notAfter });
  }
  if (keys.length === 0) throw new CertificatesUnusable('the certificates answer holds no valid certificate');
  const carried = new StaticKeys(keys.map((entry) => [normalizeSerial(entry.serial), entry.key]));
  await new WechatPaySignatureVerifier(
    { keyFor: (candidate) => carried.keyFor(normalizeSerial(candidate)) },
    clock,
  ).verify(headers, body);
  return keys;
}

/** Serial numbers as hex, whatever the case and leading zeros (OpenSSL drops them). */
function sameSerial(a: string, b: string): boolean {
  const canonical = (serial: string) => normalizeSerial(serial).replace(/^0+(?=.)/, '');
  return canonical(a) === canonical(b);
}
