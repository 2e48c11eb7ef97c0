import { Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module.js';
import { DatabaseModule } from '../database/database.module.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { PaymentsModule } from '../payments/payments.module.js';
import { ProductsModule } from '../products/products.module.js';
import { SecurityModule } from '../security/security.module.js';
import { UsersModule } from '../users/users.module.js';
import { AdminOrdersController } from './admin-orders.controller.js';
import { OrderActions } from './order-actions.service.js';
import { OrderErasure } from './order-erasure.js';
import { OrderItemEntity } from './order-item.entity.js';
import { OrderMetrics } from './order-metrics.js';
import { OrderPayments } from './order-payments.service.js';
import { OrderExpiryPoller } from './order-expiry.poller.js';
import { OrderPlacement } from './order-placement.service.js';
import { OrderQueries } from './order-queries.service.js';
import { OrderRefunds } from './order-refunds.service.js';
import { OrderSettlement } from './order-settlement.service.js';
import { OrderTransitions } from './order-transitions.js';
import { OrderEntity } from './order.entity.js';
import { OrderRepository } from './order.repository.js';
import { OrdersController } from './orders.controller.js';
import { PayNotificationEndpoint } from './pay-notification-endpoint.js';
import { PayNotifyController } from './pay-notify.controller.js';
import { PaymentNotificationsService } from './payment-notifications.service.js';
import { DEFAULT_ORDER_POLLING, ORDER_POLLING } from './order-polling.js';
import { RefundNotificationsService } from './refund-notifications.service.js';
import { RefundQueryPoller } from './refund-query.poller.js';
import { RefundSettlement } from './refund-settlement.service.js';
import { RefundEntity } from './refund.entity.js';
import { SandboxOrdersController } from './sandbox-orders.controller.js';
import { SandboxPayments } from './sandbox-payments.service.js';
import { TypeormOrderRepository } from './typeorm-order.repository.js';

export interface OrdersModuleOptions {
  /** WECHAT_PAY_MODE=sandbox: POST /sandbox/orders/:id/pay exists (in routes and OpenAPI) only then. */
  sandboxPay: boolean;
}

/**
 * Orders: placing (stock and idempotency), paying, cancelling, shipping, confirming, refunds,
 * payment and refund notifications (their raw-body routes), and the pollers of overdue orders and
 * unfinished refunds; every state change through OrderTransitions. Built per configuration so the
 * sandbox's route is absent from other modes, not merely refused.
 */
@Module({})
export class OrdersModule {
  static register(options: OrdersModuleOptions): DynamicModule {
    return {
      module: OrdersModule,
      imports: [
        TypeOrmModule.forFeature([OrderEntity, OrderItemEntity, RefundEntity]),
        DatabaseModule,
        AuditModule,
        MetricsModule,
        SecurityModule,
        UsersModule,
        ProductsModule,
        PaymentsModule,
      ],
      controllers: [
        OrdersController,
        AdminOrdersController,
        PayNotifyController,
        ...(options.sandboxPay ? [SandboxOrdersController] : []),
      ],
      providers: [
        { provide: OrderRepository, useClass: TypeormOrderRepository },
        OrderMetrics,
        OrderTransitions,
        OrderQueries,
        OrderPlacement,
        OrderPayments,
        OrderSettlement,
        OrderActions,
        PaymentNotificationsService,
        SandboxPayments,
        OrderErasure,
        RefundSettlement,
        OrderRefunds,
        RefundNotificationsService,
        PayNotificationEndpoint,
        { provide: ORDER_POLLING, useValue: DEFAULT_ORDER_POLLING },
        OrderExpiryPoller,
        RefundQueryPoller,
      ],
      exports: [OrderTransitions, OrderSettlement, PaymentNotificationsService, OrderQueries],
    };
  }
}
