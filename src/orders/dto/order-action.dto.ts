import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, Length, ValidateBy, ValidateIf } from 'class-validator';
import { Optional } from '../../common/validation/presence.js';

export class ShipOrderDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 64, description: "the carrier's tracking number" })
  @Optional()
  @IsString()
  @Length(1, 64)
  trackingNo?: string;
}

/**
 * The body of an action that takes none: absent or `{}`. class-validator refuses a class it has no
 * rule for (forbidUnknownValues), so this one carries a rule on a property no client sends; any
 * property sent is refused as unknown like everywhere else.
 */
export class NoBodyDto {
  @ValidateIf((_object, value) => value !== undefined)
  @ValidateBy({
    name: 'absent',
    validator: { validate: () => false, defaultMessage: () => 'must not be sent' },
  })
  readonly __absent?: never;
}
