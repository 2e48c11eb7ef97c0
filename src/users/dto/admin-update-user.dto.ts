import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { Optional } from '../../common/validation/presence.js';

export class AdminUpdateUserDto {
  @ApiPropertyOptional({ enum: ['active', 'disabled'] })
  @Optional()
  @IsIn(['active', 'disabled'])
  status?: 'active' | 'disabled';

  @ApiPropertyOptional({ enum: ['user', 'admin'] })
  @Optional()
  @IsIn(['user', 'admin'])
  role?: 'user' | 'admin';
}
