import { SetMetadata } from '@nestjs/common';

export interface Envelope<T> {
  code: number;
  message: string;
  data: T;
  requestId: string;
}

export const RAW_RESPONSE_KEY = 'envelope:raw';

/** The handler's answer leaves as is (health probes, metrics): outside the envelope by contract. */
export const RawResponse = () => SetMetadata(RAW_RESPONSE_KEY, true);

export function envelope<T>(code: number, message: string, data: T, requestId: string): Envelope<T> {
  return { code, message, data, requestId };
}
