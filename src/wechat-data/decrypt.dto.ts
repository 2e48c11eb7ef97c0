import { ApiProperty } from '@nestjs/swagger';
import { IsBase64, IsString, Matches, MaxLength } from 'class-validator';

export class DecryptDto {
  @ApiProperty({ description: 'encryptedData from the WeChat API (base64)', maxLength: 65536 })
  @IsString()
  @MaxLength(65536)
  @IsBase64()
  encryptedData!: string;

  /**
   * Exactly 16 bytes: 22 base64 characters and `==`. A length check alone let through 24
   * characters without padding (18 bytes), which then failed to decrypt and looked like a stale
   * session key (401) instead of the malformed input it is.
   */
  @ApiProperty({
    description: 'iv from the WeChat API: base64 of 16 bytes (24 characters ending in ==)',
    minLength: 24,
    maxLength: 24,
    pattern: '^[A-Za-z0-9+/]{22}==$',
  })
  @IsString()
  @Matches(/^[A-Za-z0-9+/]{22}==$/, {
    message: 'iv must be base64 of 16 bytes (24 characters ending in ==)',
  })
  iv!: string;
}
