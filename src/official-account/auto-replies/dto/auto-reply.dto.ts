import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsString } from 'class-validator';
import { Optional } from '../../../common/validation/presence.js';
import type { AutoReplyMatch } from '../auto-reply.entity.js';
import {
  AUTO_REPLY_MATCHES,
  CharacterLength,
  KEYWORD_MAX_BYTES,
  REPLY_MAX_CHARACTERS,
  Utf8ByteLength,
} from './auto-reply-fields.js';

const MATCH_DOC =
  '`exact`: the text message, trimmed, is the keyword; `contains`: the text holds it (the longest ' +
  'such keyword wins, then the oldest rule); `click`: a menu button whose key is the keyword';

export class CreateAutoReplyDto {
  @ApiProperty({ enum: AUTO_REPLY_MATCHES, description: MATCH_DOC })
  @IsIn(AUTO_REPLY_MATCHES)
  match!: AutoReplyMatch;

  @ApiProperty({
    minLength: 1,
    description: `1 to ${KEYWORD_MAX_BYTES} bytes of UTF-8, case-sensitive`,
    example: '营业时间',
  })
  @IsString()
  @Utf8ByteLength(1, KEYWORD_MAX_BYTES)
  keyword!: string;

  @ApiProperty({ minLength: 1, maxLength: REPLY_MAX_CHARACTERS, example: '每天 9:00–18:00' })
  @IsString()
  @CharacterLength(1, REPLY_MAX_CHARACTERS)
  reply!: string;

  @ApiPropertyOptional({ default: true })
  @Optional()
  @IsBoolean()
  enabled?: boolean;
}

/** Any of the fields; one left out keeps its value. */
export class UpdateAutoReplyDto {
  @ApiPropertyOptional({ enum: AUTO_REPLY_MATCHES, description: MATCH_DOC })
  @Optional()
  @IsIn(AUTO_REPLY_MATCHES)
  match?: AutoReplyMatch;

  @ApiPropertyOptional({
    minLength: 1,
    description: `1 to ${KEYWORD_MAX_BYTES} bytes of UTF-8, case-sensitive`,
  })
  @Optional()
  @IsString()
  @Utf8ByteLength(1, KEYWORD_MAX_BYTES)
  keyword?: string;

  @ApiPropertyOptional({ minLength: 1, maxLength: REPLY_MAX_CHARACTERS })
  @Optional()
  @IsString()
  @CharacterLength(1, REPLY_MAX_CHARACTERS)
  reply?: string;

  @ApiPropertyOptional()
  @Optional()
  @IsBoolean()
  enabled?: boolean;
}
