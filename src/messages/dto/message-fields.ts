import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsString, Matches, ValidateBy } from 'class-validator';
import { Optional } from '../../common/validation/presence.js';

/** Shapes shared by the subscribe, template and customer-service message bodies. */
export const TEMPLATE_ID = /^[A-Za-z0-9_-]{1,64}$/;
export const DATA_KEY = /^[A-Za-z_][A-Za-z0-9_]{0,31}$/;
export const DATA_LIMITS = { entriesMin: 1, entriesMax: 20, valueMin: 1, valueMax: 200 } as const;

/** Length as people count characters (code points), not UTF-16 units. */
export const characters = (text: string): number => [...text].length;

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Why `data` is refused, or null: 1–20 entries `key: { "value": string of 1–200 characters }`. */
export function templateDataProblem(data: unknown): string | null {
  if (!isPlainObject(data)) return 'must be an object of `key: { value }` entries';
  const entries = Object.entries(data);
  if (entries.length < DATA_LIMITS.entriesMin || entries.length > DATA_LIMITS.entriesMax) {
    return `must have ${DATA_LIMITS.entriesMin}-${DATA_LIMITS.entriesMax} entries`;
  }
  for (const [key, entry] of entries) {
    const name = key.length > 32 ? `${key.slice(0, 32)}…` : key;
    if (!DATA_KEY.test(key)) return `key ${JSON.stringify(name)} must match ${DATA_KEY.source}`;
    if (!isPlainObject(entry) || Object.keys(entry).some((k) => k !== 'value')) {
      return `${name} must be { "value": string }`;
    }
    const value = entry.value;
    if (typeof value !== 'string') return `${name}.value must be a string`;
    const length = characters(value);
    if (length < DATA_LIMITS.valueMin || length > DATA_LIMITS.valueMax) {
      return `${name}.value must be ${DATA_LIMITS.valueMin}-${DATA_LIMITS.valueMax} characters`;
    }
  }
  return null;
}

/** The `data` of a template or subscribe message. */
export function TemplateData(): PropertyDecorator {
  return applyDecorators(
    ApiProperty({
      type: 'object',
      description:
        '1-20 entries; keys [A-Za-z_][A-Za-z0-9_]{0,31} as the template names them (thing1, time2, keyword1…)',
      additionalProperties: {
        type: 'object',
        required: ['value'],
        additionalProperties: false,
        properties: {
          value: {
            type: 'string',
            minLength: DATA_LIMITS.valueMin,
            maxLength: DATA_LIMITS.valueMax,
          },
        },
      },
      example: { thing1: { value: 'Your order has shipped' }, time2: { value: '2026-01-05 10:00' } },
    }),
    ValidateBy({
      name: 'templateData',
      validator: {
        validate: (value: unknown) => templateDataProblem(value) === null,
        defaultMessage: (args) => `data ${templateDataProblem(args?.value) ?? 'is invalid'}`,
      },
    }),
  );
}

export function TemplateId(): PropertyDecorator {
  return applyDecorators(
    ApiProperty({ pattern: TEMPLATE_ID.source, minLength: 1, maxLength: 64 }),
    IsString(),
    Matches(TEMPLATE_ID, { message: 'templateId must be 1-64 characters of A-Za-z0-9_-' }),
  );
}

export function UserId(): PropertyDecorator {
  return applyDecorators(
    ApiProperty({
      description: 'the user the message goes to; one that does not exist is 404',
      maxLength: 64,
    }),
    IsString(),
    ValidateBy({
      name: 'userId',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && value.length >= 1 && value.length <= 64,
        defaultMessage: () => 'userId must be 1-64 characters',
      },
    }),
  );
}

/** A string of `min`–`max` characters (code points). */
export function Characters(field: string, min: number, max: number): PropertyDecorator {
  return ValidateBy({
    name: 'characters',
    validator: {
      validate: (value: unknown) =>
        typeof value === 'string' && characters(value) >= min && characters(value) <= max,
      defaultMessage: () => `${field} must be ${min}-${max} characters`,
    },
  });
}

/** An optional mini-program page path, 1–512 characters. */
export function PagePath(field: string, required: boolean): PropertyDecorator {
  const doc = { minLength: 1, maxLength: 512, example: 'pages/orders/detail?id=1' };
  return applyDecorators(
    required ? ApiProperty(doc) : ApiPropertyOptional(doc),
    ...(required ? [] : [Optional()]),
    IsString(),
    Characters(field, 1, 512),
  );
}

export const MINIPROGRAM_STATES = ['developer', 'trial', 'formal'] as const;
export const LANGS = ['zh_CN', 'en_US', 'zh_HK', 'zh_TW'] as const;

export function OneOfOptional(values: readonly string[]): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ enum: [...values] }),
    Optional(),
    IsString(),
    IsIn([...values]),
  );
}
