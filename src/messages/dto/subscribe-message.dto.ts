import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches } from 'class-validator';
import {
  LANGS,
  MINIPROGRAM_STATES,
  OneOfOptional,
  PagePath,
  TemplateData,
  TemplateId,
  UserId,
} from './message-fields.js';

export const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{1,128}$/;

/** POST /admin/messages/subscribe */
export class SubscribeMessageDto {
  @UserId()
  userId!: string;

  @TemplateId()
  templateId!: string;

  @TemplateData()
  data!: Record<string, { value: string }>;

  /** The mini-program page the message opens. */
  @PagePath('page', false)
  page?: string;

  @OneOfOptional(MINIPROGRAM_STATES)
  miniprogramState?: (typeof MINIPROGRAM_STATES)[number];

  @OneOfOptional(LANGS)
  lang?: (typeof LANGS)[number];

  @ApiProperty({
    pattern: IDEMPOTENCY_KEY.source,
    minLength: 1,
    maxLength: 128,
    description: 'the same key with the same body answers the same message; with another body 409 / 40901',
  })
  @IsString()
  @Matches(IDEMPOTENCY_KEY, { message: 'idempotencyKey must be 1-128 characters of A-Za-z0-9._:-' })
  idempotencyKey!: string;
}
