import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, IsUrl, Length, MaxLength } from 'class-validator';

export class UpdateProfileDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 64 })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  nickname?: string;

  @ApiPropertyOptional({ maxLength: 1024, example: 'https://thirdwx.qlogo.cn/avatar.png' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false })
  avatarUrl?: string;

  @ApiPropertyOptional({ enum: [0, 1, 2] })
  @IsOptional()
  @IsIn([0, 1, 2])
  gender?: number;
}
