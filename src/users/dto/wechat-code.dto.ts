import { ApiProperty } from '@nestjs/swagger';
import { IsNotEmpty, IsString, MaxLength } from 'class-validator';

/** A WeChat one-time code (wx.login or the getPhoneNumber button). */
export class WechatCodeDto {
  @ApiProperty({ minLength: 1, maxLength: 128, example: '0a3Xyz...' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  code!: string;
}
