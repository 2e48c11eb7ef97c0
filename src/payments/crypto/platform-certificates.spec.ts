import { makePlatformCertificate, randomSerial } from '../../../test/support/fake-wechat-pay-certificates.js';
import { encryptResource, signedHeaders } from '../../../test/support/fake-wechat-pay-wire.js';
import { AeadAes256Gcm } from './aead-aes-256-gcm.js';
import {
  CertificatesUnusable,
  PlatformCertificates,
  readCertificatesAnswer,
  type PlatformKey,
} from './platform-certificates.js';
import { VerificationFailed } from './signature-verifier.js';

const APIV3_KEY = 'Q7m2Vx9LpR4tZc8NwB1sKd6HfJ3gYa0E';
const current = makePlatformCertificate();
const next = makePlatformCertificate();

function certificatesBody(certificates: Array<{ serial: string; pem: string }>, key = APIV3_KEY): Buffer {
  const data = certificates.map((certificate) => ({
    serial_no: certificate.serial,
    effective_time: '2026-01-01T00:00:00+08:00',
    expire_time: '2031-01-01T00:00:00+08:00',
    encrypt_certificate: encryptResource(key, certificate.pem, 'certificate'),
  }));
  return Buffer.from(JSON.stringify({ data }));
}

describe('readCertificatesAnswer', () => {
  const aead = new AeadAes256Gcm(Buffer.from(APIV3_KEY));

  it('decrypts every certificate and verifies the answer with one it carries', async () => {
    const body = certificatesBody([current, next]);
    const keys = await readCertificatesAnswer(signedHeaders(next, body), body, aead);
    expect(keys.map((key) => key.serial)).toEqual([current.serial, next.serial]);
    expect(keys[0].key.equals(current.publicKey)).toBe(true);
    expect(keys[1].notAfter).toBe(Math.floor(next.notAfter.getTime() / 1000) * 1000);
  });

  it('refuses an answer signed by a key it does not carry', async () => {
    const body = certificatesBody([current]);
    const stranger = makePlatformCertificate();
    await expect(readCertificatesAnswer(signedHeaders(stranger, body), body, aead)).rejects.toBeInstanceOf(
      VerificationFailed,
    );
    const forged = signedHeaders({ serial: current.serial, privateKey: stranger.privateKey }, body);
    await expect(readCertificatesAnswer(forged, body, aead)).rejects.toMatchObject({ reason: 'signature' });
  });

  it('refuses certificates encrypted with another APIv3 key, or listed under another serial', async () => {
    const wrongKey = certificatesBody([current], 'W'.repeat(32));
    await expect(
      readCertificatesAnswer(signedHeaders(current, wrongKey), wrongKey, aead),
    ).rejects.toBeInstanceOf(CertificatesUnusable);
    const misfiled = certificatesBody([{ serial: randomSerial(), pem: current.pem }]);
    await expect(
      readCertificatesAnswer(signedHeaders(current, misfiled), misfiled, aead),
    ).rejects.toBeInstanceOf(CertificatesUnusable);
  });

  it('drops expired certificates', async () => {
    const expired = makePlatformCertificate({
      notBefore: new Date(Date.now() - 2 * 86_400_000),
      notAfter: new Date(Date.now() - 86_400_000),
    });
    const body = certificatesBody([expired, current]);
    const keys = await readCertificatesAnswer(signedHeaders(current, body), body, aead);
    expect(keys.map((key) => key.serial)).toEqual([current.serial]);
    const onlyExpired = certificatesBody([expired]);
    await expect(
      readCertificatesAnswer(signedHeaders(expired, onlyExpired), onlyExpired, aead),
    ).rejects.toBeInstanceOf(CertificatesUnusable);
  });
});

describe('PlatformCertificates', () => {
  const forever = Date.now() + 86_400_000;
  const entry = (certificate: typeof current): PlatformKey => ({
    serial: certificate.serial,
    key: certificate.publicKey,
    notAfter: forever,
  });

  function store(lists: PlatformKey[][]) {
    let now = Date.now();
    const calls: number[] = [];
    const certificates = new PlatformCertificates(
      async () => {
        calls.push(now);
        const list = lists[Math.min(calls.length - 1, lists.length - 1)];
        if (!list) throw new Error('down');
        return list;
      },
      { clock: () => now },
    );
    return { certificates, calls, advance: (ms: number) => (now += ms) };
  }

  it('downloads on an unknown serial, at most once per 60 s, and finds a rotated certificate after that', async () => {
    const { certificates, calls, advance } = store([[entry(current)], [entry(current), entry(next)]]);
    expect((await certificates.keyFor(current.serial))?.equals(current.publicKey)).toBe(true);
    expect(calls).toHaveLength(1);
    // Bogus or not yet listed serials within the minute: no download each.
    for (let i = 0; i < 20; i++) expect(await certificates.keyFor(randomSerial())).toBeUndefined();
    expect(await certificates.keyFor(next.serial)).toBeUndefined();
    advance(59_999);
    expect(await certificates.keyFor(next.serial)).toBeUndefined();
    expect(calls).toHaveLength(1);
    advance(1);
    expect((await certificates.keyFor(next.serial))?.equals(next.publicKey)).toBe(true);
    expect(calls).toHaveLength(2);
    // Held serials never download, in any case of the hex digits.
    expect(await certificates.keyFor(current.serial.toLowerCase())).toBeDefined();
    expect(calls).toHaveLength(2);
  });

  it('counts the start-up download, and shares one download among concurrent lookups', async () => {
    const { certificates, calls } = store([[entry(current)]]);
    const startUp = certificates.refresh();
    const lookups = await Promise.all([
      certificates.keyFor(current.serial),
      certificates.keyFor(randomSerial()),
    ]);
    await startUp;
    expect(lookups[0]).toBeDefined();
    expect(lookups[1]).toBeUndefined();
    expect(calls).toHaveLength(1);
    expect(await certificates.keyFor(next.serial)).toBeUndefined();
    expect(certificates.downloads).toBe(1);
  });

  it('keeps what it held when a download fails, and says so', async () => {
    const failures: unknown[] = [];
    let now = Date.now();
    let fail = false;
    const certificates = new PlatformCertificates(
      async () => {
        if (fail) throw new Error('WeChat Pay unreachable');
        return [entry(current)];
      },
      { clock: () => now, onFailure: (error) => failures.push(error) },
    );
    await certificates.refresh();
    fail = true;
    now += 60_000;
    expect(await certificates.keyFor(next.serial)).toBeUndefined();
    expect(failures).toHaveLength(1);
    expect(await certificates.keyFor(current.serial)).toBeDefined();
  });

  it('no longer uses a certificate past its end', async () => {
    let now = Date.now();
    const certificates = new PlatformCertificates(async () => [{ ...entry(current), notAfter: now + 1000 }], {
      clock: () => now,
    });
    expect(await certificates.keyFor(current.serial)).toBeDefined();
    now += 1000;
    expect(await certificates.keyFor(current.serial)).toBeUndefined();
  });
});
