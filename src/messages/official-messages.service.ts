import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { AppError } from '../common/errors/app-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import type { RequestMeta } from '../common/http/request-meta.js';
import { wechatConfig, type WechatSlice } from '../config/config.slices.js';
import { UsersService } from '../users/users.service.js';
import {
  WECHAT_OFFICIAL_CLIENT,
  type OfficialAccountClient,
} from '../wechat/official-account-client.port.js';
import { FollowerRecords } from './follower-records.js';
import { MessageMetrics, type MessageKindLabel } from './message-metrics.js';

export interface TemplateRequest {
  userId: string;
  templateId: string;
  data: Record<string, { value: string }>;
  url?: string;
  miniprogram?: { pagepath: string; appid?: string };
}

/**
 * Template and customer-service messages of the official account: sent at once (no queue), to the
 * user's OA openid. Refused before any call: 404 without the OA or the user, 40921 without an OA
 * openid, 40922 when the follower records say the person unsubscribed. WeChat's own refusals come
 * back through the client as 40922 (43004), 40923 (45015 / 45047) and 40007.
 */
@Injectable()
export class OfficialMessages {
  private readonly log = new Logger('OfficialMessages');
  private readonly miniProgramAppId: string;

  constructor(
    private readonly users: UsersService,
    private readonly followers: FollowerRecords,
    private readonly audit: AuditService,
    private readonly metrics: MessageMetrics,
    @Inject(wechatConfig.KEY) wechat: Pick<WechatSlice, 'appId'>,
    @Optional() @Inject(WECHAT_OFFICIAL_CLIENT) private readonly client: OfficialAccountClient | null,
  ) {
    this.miniProgramAppId = wechat.appId;
  }

  /**
   * One template message; WeChat's msgid as a string. Its client_msg_id is drawn for this request
   * and goes with every call the client makes for it, so WeChat sends it once whatever is retried.
   */
  async sendTemplate(
    actorId: string,
    request: TemplateRequest,
    meta: RequestMeta,
  ): Promise<{ wechatMsgId: string }> {
    const client = this.official();
    const touser = await this.recipient(request.userId);
    const { msgId } = await this.counted('template', () =>
      client.sendTemplateMessage({
        touser,
        templateId: request.templateId,
        data: request.data,
        url: request.url,
        miniprogram: request.miniprogram && {
          appid: request.miniprogram.appid ?? this.miniProgramAppId,
          pagepath: request.miniprogram.pagepath,
        },
        clientMsgId: randomBytes(16).toString('hex'),
      }),
    );
    await this.audited(
      'template_message_sent',
      request.userId,
      actorId,
      meta,
      `template ${request.templateId}`,
    );
    return { wechatMsgId: msgId };
  }

  /** One customer-service text message (within WeChat's 48-hour window). */
  async sendCustomText(actorId: string, userId: string, text: string, meta: RequestMeta): Promise<void> {
    const client = this.official();
    const touser = await this.recipient(userId);
    await this.counted('custom', () => client.sendCustomText(touser, text));
    await this.audited('cs_message_sent', userId, actorId, meta);
  }

  private official(): OfficialAccountClient {
    if (!this.client) throw new AppError(ErrorCode.NOT_FOUND);
    return this.client;
  }

  private async recipient(userId: string): Promise<string> {
    const user = await this.users.getVisible(userId);
    if (!user.oaOpenid) {
      throw new AppError(ErrorCode.NO_IDENTITY_IN_APP, 'the user has no identity in the official account');
    }
    if (await this.followers.unsubscribedOnRecord(user.oaOpenid)) {
      throw new AppError(ErrorCode.NOT_A_FOLLOWER);
    }
    return user.oaOpenid;
  }

  private async counted<T>(kind: MessageKindLabel, send: () => Promise<T>): Promise<T> {
    try {
      const result = await send();
      this.metrics.count(kind, 'sent');
      return result;
    } catch (error) {
      this.metrics.count(kind, 'failed');
      throw error;
    }
  }

  /**
   * After the send: the message is out, so a failure to write the entry is logged rather than
   * answered (an error would invite the admin to send it again).
   */
  private async audited(
    event: 'template_message_sent' | 'cs_message_sent',
    userId: string,
    actorId: string,
    meta: RequestMeta,
    detail?: string,
  ): Promise<void> {
    try {
      await this.audit.record(event, { userId, actorId, meta, detail });
    } catch (error) {
      this.log.error(
        `${event} for user ${userId} not audited: ${(error as Error)?.message ?? String(error)}`,
      );
    }
  }
}
