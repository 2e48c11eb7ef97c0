import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AuditService } from '../audit/audit.service.js';
import { AppError } from '../common/errors/app-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import { handleRawBodyRefusals, type RawBodyRefusal } from '../common/http/raw-body.js';
import {
  NotificationRefused,
  WECHAT_PAY_CLIENT,
  type NotificationKind,
  type WechatPayClient,
} from '../payments/wechat-pay-client.port.js';
import { OrderMetrics } from './order-metrics.js';
import { PaymentNotificationsService } from './payment-notifications.service.js';
import { RefundNotificationsService } from './refund-notifications.service.js';

/** What a notification route answers: 204 and nothing, or a status with WeChat Pay's FAIL body. */
export type NotificationAnswer = { status: 204 } | { status: 400 | 401 | 413 | 503; message: string };

/**
 * The two notification routes' answers, as WeChat Pay reads them: 204 once the notification is
 * applied, a repeat, or verified but not applicable (sending it again would change nothing);
 * 401 / 400 / 413 for what cannot be WeChat Pay's; 503 when it cannot be processed now (WeChat Pay
 * sends it again later). Every 4xx is counted `invalid` and leaves a notify_rejected entry.
 */
@Injectable()
export class PayNotificationEndpoint implements OnModuleInit {
  private readonly log = new Logger('PayNotifications');

  constructor(
    private readonly payments: PaymentNotificationsService,
    private readonly refunds: RefundNotificationsService,
    private readonly audit: AuditService,
    private readonly metrics: OrderMetrics,
    @Inject(WECHAT_PAY_CLIENT) private readonly pay: WechatPayClient,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  /** Bodies refused before the handler (over 1 MiB) are answered here too. */
  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify) return;
    handleRawBodyRefusals(fastify, (refusal, request, reply) => this.refusedBody(refusal, request, reply));
  }

  async receive(kind: NotificationKind, request: FastifyRequest): Promise<NotificationAnswer> {
    if (this.pay.mode === 'off') {
      this.metrics.notifications.inc({ kind, result: 'error' });
      return { status: 503, message: 'WeChat Pay is off' };
    }
    // A request without a body gets none from Fastify: its signature cannot check out either.
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const raw = { headers: request.headers, body };
    try {
      if (kind === 'transaction') await this.payments.handleTransaction(raw);
      else await this.refunds.handleRefund(raw);
      return { status: 204 };
    } catch (error) {
      if (error instanceof NotificationRefused) return { status: error.status, message: error.message };
      if (!(error instanceof AppError && error.code === ErrorCode.DEPENDENCY_UNAVAILABLE)) {
        this.log.error(`${kind} notification not processed: ${(error as Error)?.message ?? String(error)}`);
      }
      return { status: 503, message: 'the notification cannot be processed now' };
    }
  }

  /** Writes `answer` as WeChat Pay expects it. */
  send(reply: FastifyReply, answer: NotificationAnswer): void {
    if (answer.status === 204) {
      void reply.status(204).send();
      return;
    }
    void reply
      .status(answer.status)
      .header('content-type', 'application/json; charset=utf-8')
      .send(JSON.stringify({ code: 'FAIL', message: answer.message }));
  }

  private async refusedBody(
    refusal: RawBodyRefusal,
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<void> {
    const kind: NotificationKind = request.url.includes('refund-notify') ? 'refund' : 'transaction';
    if (this.pay.mode === 'off') {
      this.metrics.notifications.inc({ kind, result: 'error' });
      return this.send(reply, { status: 503, message: 'WeChat Pay is off' });
    }
    this.metrics.notifications.inc({ kind, result: 'invalid' });
    this.log.warn(`${kind} notification refused (${refusal.status}): ${refusal.message}`);
    try {
      await this.audit.record('notify_rejected', { detail: `${kind}: ${refusal.status} ${refusal.message}` });
    } catch (error) {
      this.log.warn(`notify_rejected not recorded: ${(error as Error)?.message ?? String(error)}`);
    }
    this.send(reply, refusal);
  }
}
