import { ApiProperty } from '@nestjs/swagger';
import { IsBase64, IsString, Length, MaxLength } from 'class-validator';

export class DecryptDto {
  @ApiProperty({ description: 'encryptedData from the WeChat API (base64)', maxLength: 65536 })
  @IsString()
  @MaxLength(65536)
  @IsBase64()
  encryptedData!: string;

  @ApiProperty({ description: 'iv from the WeChat API (base64 of 16 bytes)', minLength: 24, maxLength: 24 })
  @IsString()
  @Length(24, 24)
  @IsBase64()
  iv!: string;
}
