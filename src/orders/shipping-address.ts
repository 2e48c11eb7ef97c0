import type { DataCipher } from '../security/data-cipher.js';
import type { ShippingAddress } from './order-view.js';

const FIELDS = [
  'userName',
  'telNumber',
  'provinceName',
  'cityName',
  'countyName',
  'detailInfo',
  'postalCode',
  'nationalCode',
] as const;

/** The address fields only (wx.chooseAddress's errMsg and anything else dropped), encrypted. */
export function sealAddress(cipher: DataCipher, address: ShippingAddress): string {
  const kept: Record<string, string> = {};
  for (const field of FIELDS) {
    const value = address[field];
    if (typeof value === 'string') kept[field] = value;
  }
  return cipher.encrypt(JSON.stringify(kept));
}

/** null when none was stored, or when it was written under another key. */
export function openAddress(cipher: DataCipher, sealed: string | null): ShippingAddress | null {
  if (sealed === null) return null;
  const text = cipher.decrypt(sealed);
  if (text === null) return null;
  try {
    return JSON.parse(text) as ShippingAddress;
  } catch {
    return null;
  }
}
