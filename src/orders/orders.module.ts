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
import { OrderPlacement } from './order-placement.service.js';
import { OrderQueries } from './order-queries.service.js';
import { OrderSettlement } from './order-settlement.service.js';
import { OrderTransitions } from './order-transitions.js';
import { OrderEntity } from './order.entity.js';
import { OrderRepository } from './order.repository.js';
import { OrdersController } from './orders.controller.js';
import { PaymentNotificationsService } from './payment-notifications.service.js';
import { RefundEntity } from './refund.entity.js';
import { SandboxOrdersController } from './sandbox-orders.controller.js';
import { SandboxPayments } from './sandbox-payments.service.js';
import { TypeormOrderRepository } from './typeorm-order.repository.js';

export interface OrdersModuleOptions {
  /** WECHAT_PAY_MODE=sandbox: POST /sandbox/orders/:id/pay exists (in routes and OpenAPI) only then. */
  sandboxPay: boolean;
}

/**
 * Orders: placing (stock and idempotency), paying, cancelling, shipping, confirming, and payment
 * notifications, every state change through OrderTransitions. Built per configuration so the
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
      ],
      exports: [OrderTransitions, OrderSettlement, PaymentNotificationsService, OrderQueries],
    };
  }
}
