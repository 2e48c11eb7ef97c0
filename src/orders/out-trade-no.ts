import { randomInt } from 'node:crypto';

const BEIJING_OFFSET_MS = 8 * 3600_000;

const pad = (value: number, width: number) => String(value).padStart(width, '0');

/** `at` in Beijing time (UTC+8, no daylight saving) as yyyyMMddHHmmssSSS. */
export function beijingStamp(at: Date): string {
  const t = new Date(at.getTime() + BEIJING_OFFSET_MS);
  return (
    pad(t.getUTCFullYear(), 4) +
    pad(t.getUTCMonth() + 1, 2) +
    pad(t.getUTCDate(), 2) +
    pad(t.getUTCHours(), 2) +
    pad(t.getUTCMinutes(), 2) +
    pad(t.getUTCSeconds(), 2) +
    pad(t.getUTCMilliseconds(), 3)
  );
}

/**
 * 32 digits: the creation time to the millisecond in Beijing time, then 15 random digits. Sorting
 * the numbers sorts by creation; two instances making one in the same millisecond collide with
 * odds of 1e-15, and the unique index turns even that into a retry, never a second order.
 * Serves out_trade_no and out_refund_no alike.
 */
export function newMerchantNo(at: Date): string {
  // randomInt takes ranges below 2^48: two draws make the 15 digits.
  return beijingStamp(at) + pad(randomInt(0, 100_000_000), 8) + pad(randomInt(0, 10_000_000), 7);
}

/** RFC 3339 in Beijing time, fractions of a second dropped: 2026-12-01T15:30:00+08:00. */
export function beijingRfc3339(at: Date): string {
  const s = beijingStamp(at);
  return `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(8, 10)}:${s.slice(10, 12)}:${s.slice(12, 14)}+08:00`;
}
