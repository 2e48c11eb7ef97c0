import { ApiProperty } from '@nestjs/swagger';
import { AUTO_REPLY_MATCHES, REPLY_MAX_CHARACTERS } from './dto/auto-reply-fields.js';
import type { AutoReplyEntity, AutoReplyMatch } from './auto-reply.entity.js';

/** docs/api.md `AutoReply`. */
export class AutoReplyView {
  @ApiProperty({ example: '0b9e7c1a-5d3f-4e2a-9c1b-7f6e5d4c3b2a' }) id!: string;
  @ApiProperty({ enum: AUTO_REPLY_MATCHES }) match!: AutoReplyMatch;
  @ApiProperty({ description: '1 to 128 bytes of UTF-8' }) keyword!: string;
  @ApiProperty({ minLength: 1, maxLength: REPLY_MAX_CHARACTERS }) reply!: string;
  @ApiProperty() enabled!: boolean;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export class AutoReplyPageView {
  @ApiProperty({ type: [AutoReplyView] }) items!: AutoReplyView[];
  @ApiProperty() total!: number;
  @ApiProperty() page!: number;
  @ApiProperty() pageSize!: number;
}

export function toAutoReplyView(rule: AutoReplyEntity): AutoReplyView {
  return {
    id: rule.id,
    match: rule.match,
    keyword: rule.keyword,
    reply: rule.reply,
    enabled: rule.enabled,
    createdAt: rule.createdAt.toISOString(),
    updatedAt: rule.updatedAt.toISOString(),
  };
}
