import { randomInt } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `length` characters of A-Za-z0-9 from the CSPRNG (randomInt draws without modulo bias). */
export function randomAlphanumeric(length = 32): string {
  let text = '';
  for (let i = 0; i < length; i++) text += ALPHABET[randomInt(ALPHABET.length)];
  return text;
}

/** Epoch milliseconds, like Date.now (tests inject their own). */
export type Clock = () => number;
export const systemClock: Clock = () => Date.now();

/** Unix seconds as WeChat Pay writes its timestamps. */
export function unixSeconds(clock: Clock): number {
  return Math.floor(clock() / 1000);
}
