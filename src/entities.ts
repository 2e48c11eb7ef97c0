import { AuditEventEntity } from './audit/audit-event.entity.js';
import { MessageEntity } from './messages/message.entity.js';
import { SubscriptionQuotaEntity } from './messages/subscription-quota.entity.js';
import { AutoReplyEntity } from './official-account/auto-replies/auto-reply.entity.js';
import { FollowerEntity } from './official-account/followers/follower.entity.js';
import { OrderItemEntity } from './orders/order-item.entity.js';
import { OrderEntity } from './orders/order.entity.js';
import { RefundEntity } from './orders/refund.entity.js';
import { ProductEntity } from './products/product.entity.js';
import { SessionKeyEntity } from './session-keys/session-key.entity.js';
import { LoginSessionEntity } from './sessions/login-session.entity.js';
import { UserEntity } from './users/user.entity.js';

/**
 * Every entity, for what sees the whole schema at once: the migration CLI (ormconfig.ts) and the
 * test that compares the migrated schema with the entities. The app itself collects them from the
 * modules (autoLoadEntities). A new entity is added here and to its module's forFeature.
 */
export const ENTITIES = [
  UserEntity,
  SessionKeyEntity,
  LoginSessionEntity,
  AuditEventEntity,
  ProductEntity,
  OrderEntity,
  OrderItemEntity,
  RefundEntity,
  FollowerEntity,
  AutoReplyEntity,
  MessageEntity,
  SubscriptionQuotaEntity,
];
