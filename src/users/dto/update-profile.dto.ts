import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsString, IsUrl, Length, MaxLength } from 'class-validator';
import { Nullable, Optional } from '../../common/validation/presence.js';

export class UpdateProfileDto {
  @ApiPropertyOptional({
    type: String,
    minLength: 1,
    maxLength: 64,
    nullable: true,
    description: 'null clears it',
  })
  @Nullable()
  @IsString()
  @Length(1, 64)
  nickname?: string | null;

  @ApiPropertyOptional({
    type: String,
    maxLength: 1024,
    nullable: true,
    example: 'https://thirdwx.qlogo.cn/avatar.png',
    description: 'null clears it',
  })
  @Nullable()
  @IsString()
  @MaxLength(1024)
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false })
  avatarUrl?: string | null;

  @ApiPropertyOptional({ enum: [0, 1, 2], description: '0 unknown, 1 male, 2 female; never null' })
  @Optional()
  @IsIn([0, 1, 2])
  gender?: number;
}
