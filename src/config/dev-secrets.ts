import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from './config-error.js';

const DEV_SECRETS_FILE = 'dev-secrets.json';

export interface DevSecrets {
  file: string;
  /** true when this call wrote the file (first start), false when an earlier start had. */
  created: boolean;
  jwtSecret: string;
  dataEncryptionKey: Buffer;
}

/**
 * The secrets a development instance uses when JWT_SECRET or DATA_ENCRYPTION_KEY is not set, kept in
 * `<dir>/dev-secrets.json` so that logins and encrypted phones survive a restart. Created once, with
 * mode 0600, by a link(2) of a complete temporary file: two instances starting at once both end up
 * with the first one's secrets, and neither can read a half-written file.
 */
export function loadDevSecrets(dir: string): DevSecrets {
  const file = join(dir, DEV_SECRETS_FILE);
  let created: boolean;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    created = createOnce(file);
  } catch (error) {
    throw new ConfigError(
      'JWT_SECRET',
      `is not set and the development secrets file ${file} cannot be written (${codeOf(error)}): set JWT_SECRET and DATA_ENCRYPTION_KEY`,
    );
  }
  return { file, created, ...read(file) };
}

function createOnce(file: string): boolean {
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const secrets = {
    JWT_SECRET: randomBytes(48).toString('base64url'),
    DATA_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  };
  writeFileSync(temporary, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(temporary, file);
    return true;
  } catch (error) {
    if (codeOf(error) === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkSync(temporary);
  }
}

function read(file: string): Pick<DevSecrets, 'jwtSecret' | 'dataEncryptionKey'> {
  const unusable = (why: string) =>
    new ConfigError(
      'JWT_SECRET',
      `is not set and the development secrets file ${file} ${why} (remove it to generate new ones)`,
    );
  let text: string;
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    throw unusable(`cannot be read (${codeOf(error)})`);
  }
  try {
    // Whoever can read or replace the file holds every development login and phone number.
    const stat = fstatSync(fd);
    if (process.platform !== 'win32') {
      if ((stat.mode & 0o077) !== 0) throw unusable('is readable or writable by other users');
      if (process.getuid && stat.uid !== process.getuid()) throw unusable('belongs to another user');
    }
    text = readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
  let stored: { JWT_SECRET?: unknown; DATA_ENCRYPTION_KEY?: unknown };
  try {
    stored = JSON.parse(text) as typeof stored;
  } catch {
    throw unusable('is not JSON');
  }
  const jwtSecret = stored?.JWT_SECRET;
  const key =
    typeof stored?.DATA_ENCRYPTION_KEY === 'string'
      ? Buffer.from(stored.DATA_ENCRYPTION_KEY, 'base64')
      : null;
  if (typeof jwtSecret !== 'string' || Buffer.byteLength(jwtSecret, 'utf8') < 32 || key?.length !== 32) {
    throw unusable('does not hold a 32-byte JWT_SECRET and DATA_ENCRYPTION_KEY');
  }
  return { jwtSecret, dataEncryptionKey: key };
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' ? code : 'error';
}
