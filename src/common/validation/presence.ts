import { Transform } from 'class-transformer';
import { ValidateBy, ValidateIf } from 'class-validator';

/**
 * The project's replacements for class-validator's `@IsOptional()`, which skips validation for
 * `null` as well as for an absent property: a DTO using it let `{"gender":null}` through to a
 * NOT NULL column (a 500). Here absence and `null` are decided apart, once, for every DTO: a
 * property may be left out; `null` is refused unless the field says `@Nullable()` (null clears it).
 * ESLint forbids `IsOptional` so that no DTO slips back.
 */
export function Optional(): PropertyDecorator {
  return (target, key) => {
    ValidateIf((_object, value) => value !== undefined)(target, key);
    ValidateBy({
      name: 'notNull',
      validator: {
        validate: (value: unknown) => value !== null,
        defaultMessage: (args) => `${args?.property ?? 'value'} must not be null`,
      },
    })(target, key);
  };
}

/** May be left out, or `null` to clear the stored value; otherwise the field's validators apply. */
export function Nullable(): PropertyDecorator {
  return ValidateIf((_object, value) => value !== undefined && value !== null);
}

/** Plain decimal digits, no sign, no leading zero, at most 9 digits (so the value is a safe int). */
const PLAIN_DECIMAL = /^(0|[1-9]\d{0,8})$/;

/**
 * An integer in a query string. Only plain decimal digits become a number: `Number()` (what
 * `@Type(() => Number)` uses) also reads `1e3`, `0x10`, `0b11`, `+5`, ` 5`, `05` and `1.0`, which a
 * client never means. Anything else stays a string, so the field's `@IsInt()` refuses it.
 */
export function QueryInt(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && PLAIN_DECIMAL.test(value) ? Number(value) : value,
  );
}
