/**
 * X.509 platform certificates for the fake WeChat Pay and the unit tests. Node's crypto parses
 * certificates but cannot make them, and the fake must make several at run time (a rotation is a
 * new certificate with a new serial; an expired one has a past end date), with keys the test
 * generates: so node-forge (a devDependency: pure JavaScript, no dependencies of its own, the usual
 * choice for this) builds them. Only tests use it; the service reads certificates with node:crypto.
 */
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import forge from 'node-forge';

export interface PlatformCertificate {
  /** Upper-case hex, as WeChat Pay writes serial_no and Wechatpay-Serial. */
  serial: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  pem: string;
  notBefore: Date;
  notAfter: Date;
}

/** A 40-hex-digit serial with a non-zero first digit (so every writer of it agrees). */
export function randomSerial(): string {
  const hex = randomBytes(20).toString('hex').toUpperCase();
  return `${'123456789ABCDEF'[hex.charCodeAt(0) % 15]}${hex.slice(1)}`;
}

/**
 * A certificate for a fresh (or given) RSA key, signed by that key (WeChat Pay's are issued by its
 * CA; nothing here checks the chain, as nothing in the service does).
 */
export function makePlatformCertificate(
  options: {
    serial?: string;
    keys?: { privateKey: KeyObject; publicKey: KeyObject };
    notBefore?: Date;
    notAfter?: Date;
  } = {},
): PlatformCertificate {
  const keys = options.keys ?? generateKeyPairSync('rsa', { modulusLength: 2048 });
  const serial = options.serial ?? randomSerial();
  const notBefore = options.notBefore ?? new Date(Date.now() - 86_400_000);
  const notAfter = options.notAfter ?? new Date(Date.now() + 5 * 365 * 86_400_000);
  const certificate = forge.pki.createCertificate();
  // A DER INTEGER: a leading 00 keeps a serial whose first bit is set positive, and even-length.
  const hex = serial.length % 2 ? `0${serial}` : serial;
  certificate.serialNumber = `${/^[89a-f]/i.test(hex) ? '00' : ''}${hex.toLowerCase()}`;
  certificate.validity.notBefore = notBefore;
  certificate.validity.notAfter = notAfter;
  const name = [
    { name: 'countryName', value: 'CN' },
    { name: 'organizationName', value: 'Fake WeChat Pay' },
    { name: 'commonName', value: `Fake WeChat Pay platform ${serial.slice(0, 8)}` },
  ];
  certificate.setSubject(name);
  certificate.setIssuer(name);
  certificate.publicKey = forge.pki.publicKeyFromPem(
    keys.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  );
  certificate.sign(
    forge.pki.privateKeyFromPem(keys.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()),
    forge.md.sha256.create(),
  );
  return { serial, ...keys, pem: forge.pki.certificateToPem(certificate), notBefore, notAfter };
}
