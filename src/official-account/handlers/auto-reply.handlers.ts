import { Injectable } from '@nestjs/common';
import { AutoRepliesService } from '../auto-replies/auto-replies.service.js';
import { HandlesOfficialMessages, type OfficialMessageHandler } from '../callback/message-handlers.js';
import type { OfficialMessage, OfficialReply } from '../callback/official-message.js';

/** A text message: the keyword rules (exact on the trimmed text, else the longest contained keyword). */
@Injectable()
@HandlesOfficialMessages({ msgType: 'text' })
export class TextMessageHandler implements OfficialMessageHandler {
  constructor(private readonly autoReplies: AutoRepliesService) {}

  async handle(message: OfficialMessage): Promise<OfficialReply | null> {
    const reply = await this.autoReplies.replyToText(message.content ?? '');
    return reply === null ? null : { text: reply };
  }
}

/** A menu click: the enabled `click` rule whose keyword is the button's key. */
@Injectable()
@HandlesOfficialMessages({ msgType: 'event', event: 'CLICK' })
export class MenuClickHandler implements OfficialMessageHandler {
  constructor(private readonly autoReplies: AutoRepliesService) {}

  async handle(message: OfficialMessage): Promise<OfficialReply | null> {
    if (message.eventKey === undefined || message.eventKey === '') return null;
    const reply = await this.autoReplies.replyToClick(message.eventKey);
    return reply === null ? null : { text: reply };
  }
}
