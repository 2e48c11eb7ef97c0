import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsString, Max, MaxLength, Min } from 'class-validator';
import { Optional, QueryInt } from '../../common/validation/presence.js';

export class ListUsersQuery {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: 1_000_000,
    default: 1,
    description: 'plain decimal digits',
  })
  @Optional()
  @QueryInt()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  page: number = 1;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: 100,
    default: 20,
    description: 'plain decimal digits',
  })
  @Optional()
  @QueryInt()
  @IsInt()
  @Min(1)
  @Max(100)
  pageSize: number = 20;

  @ApiPropertyOptional({ enum: ['active', 'disabled'] })
  @Optional()
  @IsIn(['active', 'disabled'])
  status?: 'active' | 'disabled';

  @ApiPropertyOptional({ maxLength: 64, description: 'part of the nickname, or a whole user id' })
  @Optional()
  @IsString()
  @MaxLength(64)
  q?: string;
}
