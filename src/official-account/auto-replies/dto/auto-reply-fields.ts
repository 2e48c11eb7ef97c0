import { ValidateBy, type ValidationOptions } from 'class-validator';
import type { AutoReplyMatch } from '../auto-reply.entity.js';

export const AUTO_REPLY_MATCHES: readonly AutoReplyMatch[] = ['exact', 'contains', 'click'];
export const KEYWORD_MAX_BYTES = 128;
export const REPLY_MAX_CHARACTERS = 600;

/** A string without lone surrogates: its UTF-8 round trip gives it back unchanged. */
const isWellFormed = (value: unknown): value is string =>
  typeof value === 'string' && Buffer.from(value, 'utf8').toString('utf8') === value;

/**
 * A string of `min`–`max` bytes of UTF-8 (WeChat counts a key in bytes). A lone surrogate has no
 * UTF-8 form and is refused: stored, it would become U+FFFD and never match what was written.
 */
export function Utf8ByteLength(min: number, max: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'utf8ByteLength',
      validator: {
        validate: (value: unknown) => {
          if (!isWellFormed(value)) return false;
          const bytes = Buffer.byteLength(value, 'utf8');
          return bytes >= min && bytes <= max;
        },
        defaultMessage: (args) => `${args?.property ?? 'value'} must be ${min} to ${max} bytes of UTF-8`,
      },
    },
    options,
  );
}

/** A string of `min`–`max` characters (code points), well-formed. */
export function CharacterLength(min: number, max: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'characterLength',
      validator: {
        validate: (value: unknown) => {
          if (!isWellFormed(value)) return false;
          const length = [...value].length;
          return length >= min && length <= max;
        },
        defaultMessage: (args) => `${args?.property ?? 'value'} must be ${min} to ${max} characters`,
      },
    },
    options,
  );
}
