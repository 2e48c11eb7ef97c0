import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsObject, IsString, Matches, ValidateBy, ValidateNested } from 'class-validator';
import { Optional } from '../../common/validation/presence.js';
import { Characters, PagePath, TemplateData, TemplateId, UserId } from './message-fields.js';

const MP_APPID = /^wx[0-9a-f]{16}$/;
const URL_MAX = 1024;

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string' || [...value].length > URL_MAX || /[\s\p{Cc}]/u.test(value)) {
    return false;
  }
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

export class TemplateMiniprogramDto {
  @PagePath('miniprogram.pagepath', true)
  pagepath!: string;

  @ApiPropertyOptional({
    pattern: MP_APPID.source,
    description: 'the mini-program; WECHAT_APP_ID when absent',
  })
  @Optional()
  @IsString()
  @Matches(MP_APPID, { message: 'appid must be wx followed by 16 lower-case hex digits' })
  appid?: string;
}

/** POST /admin/official/template-messages */
export class TemplateMessageDto {
  @UserId()
  userId!: string;

  @TemplateId()
  templateId!: string;

  @TemplateData()
  data!: Record<string, { value: string }>;

  @ApiPropertyOptional({
    format: 'uri',
    maxLength: URL_MAX,
    description: 'absolute http(s) URL the message opens',
  })
  @Optional()
  @ValidateBy({
    name: 'httpUrl',
    validator: {
      validate: isHttpUrl,
      defaultMessage: () => `url must be an absolute http(s) URL of at most ${URL_MAX} characters`,
    },
  })
  url?: string;

  @ApiPropertyOptional({
    type: TemplateMiniprogramDto,
    description: 'opens the mini-program (wins over url)',
  })
  @Optional()
  @IsObject()
  @ValidateNested()
  @Type(() => TemplateMiniprogramDto)
  miniprogram?: TemplateMiniprogramDto;
}

/** POST /admin/official/cs-messages */
export class CustomerServiceMessageDto {
  @UserId()
  userId!: string;

  @ApiProperty({ minLength: 1, maxLength: 600 })
  @IsString()
  @Characters('text', 1, 600)
  text!: string;
}
