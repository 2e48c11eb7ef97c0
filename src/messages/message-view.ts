import { ApiProperty } from '@nestjs/swagger';
import type { MessageEntity, MessageStatus } from './message.entity.js';

const MESSAGE_STATUSES: readonly MessageStatus[] = ['queued', 'sent', 'failed'];

/** The contract's Message (a subscribe message). Never its data, page or the user's openid. */
export class MessageView {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: ['subscribe'] }) kind!: 'subscribe';
  @ApiProperty() userId!: string;
  @ApiProperty() templateId!: string;
  @ApiProperty() idempotencyKey!: string;
  @ApiProperty({ enum: MESSAGE_STATUSES }) status!: MessageStatus;
  @ApiProperty({ type: 'integer', description: 'calls to WeChat begun (at most 5)' }) attempts!: number;
  @ApiProperty({
    type: 'integer',
    nullable: true,
    description:
      'the last errcode WeChat answered (0 once sent); null before any, or after a timeout, 5xx or network error',
  })
  wechatErrcode!: number | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: 'string' }) sentAt!: string | null;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export function toMessageView(message: MessageEntity): MessageView {
  return {
    id: message.id,
    kind: message.kind,
    userId: message.userId,
    templateId: message.templateId,
    idempotencyKey: message.idempotencyKey,
    status: message.status,
    attempts: message.attempts,
    wechatErrcode: message.wechatErrcode,
    createdAt: message.createdAt.toISOString(),
    sentAt: message.sentAt ? message.sentAt.toISOString() : null,
    updatedAt: message.updatedAt.toISOString(),
  };
}

/** `{ quotas: { templateId: n } }` */
export class QuotasView {
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer', minimum: 0 },
    example: { 'tmpl-shipped_01': 2 },
  })
  quotas!: Record<string, number>;
}
