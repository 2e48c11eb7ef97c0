import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsString, MaxLength } from 'class-validator';
import { PageQuery } from '../../common/validation/page.query.js';
import { Optional } from '../../common/validation/presence.js';

export class ListUsersQuery extends PageQuery {
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
