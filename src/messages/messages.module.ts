import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module.js';
import { DatabaseModule } from '../database/database.module.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { OfficialAccountModule } from '../official-account/official-account.module.js';
import { UsersModule } from '../users/users.module.js';
import { WechatModule } from '../wechat/wechat.module.js';
import { AdminMessagesController } from './admin-messages.controller.js';
import { AdminOfficialMessagesController } from './admin-official-messages.controller.js';
import { DEFAULT_DELIVERY_POLICY, DELIVERY_POLICY } from './delivery-policy.js';
import { FollowerRecords } from './follower-records.js';
import { FollowersServiceRecords } from './followers-records.js';
import { MessageDelivery } from './message-delivery.js';
import { MessageErasure } from './message-erasure.js';
import { MessageMetrics } from './message-metrics.js';
import { MessageEntity } from './message.entity.js';
import { MessageRepository } from './message.repository.js';
import { MessagesController } from './messages.controller.js';
import { OfficialMessages } from './official-messages.service.js';
import { SubscribeMessages } from './subscribe-messages.service.js';
import { SubscriptionQuotaEntity } from './subscription-quota.entity.js';
import { SubscriptionQuotaRepository } from './subscription-quota.repository.js';
import { SubscriptionQuotas } from './subscription-quotas.service.js';
import { TypeormMessageRepository } from './typeorm-message.repository.js';
import { TypeormSubscriptionQuotaRepository } from './typeorm-subscription-quota.repository.js';

/**
 * Messages: the mini-program's subscribe messages (consent quotas, sends queued in the database and
 * delivered by a worker on the job queue) and the official account's template and customer-service
 * messages (sent at once). JobQueue comes from the global JobsModule.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([MessageEntity, SubscriptionQuotaEntity]),
    DatabaseModule,
    AuditModule,
    MetricsModule,
    UsersModule,
    WechatModule,
    // FollowersService: who is on record as no longer following the official account.
    OfficialAccountModule,
  ],
  controllers: [MessagesController, AdminMessagesController, AdminOfficialMessagesController],
  providers: [
    { provide: MessageRepository, useClass: TypeormMessageRepository },
    { provide: SubscriptionQuotaRepository, useClass: TypeormSubscriptionQuotaRepository },
    // A copy per app: a test may shorten its own app's backoff without touching another's.
    { provide: DELIVERY_POLICY, useFactory: () => ({ ...DEFAULT_DELIVERY_POLICY }) },
    { provide: FollowerRecords, useClass: FollowersServiceRecords },
    MessageMetrics,
    MessageDelivery,
    SubscribeMessages,
    SubscriptionQuotas,
    OfficialMessages,
    MessageErasure,
  ],
  exports: [MessageDelivery],
})
export class MessagesModule {}
