import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from './audit/audit.module.js';
import { AuthModule } from './auth/auth.module.js';
import { AllExceptionsFilter } from './common/errors/all-exceptions.filter.js';
import { createValidationPipe } from './common/http/validation.pipe.js';
import { RateLimitModule } from './rate-limit/rate-limit.module.js';
import type { AppConfig } from './config/app-config.js';
import { sliceFactories } from './config/config.slices.js';
import { dataSourceOptions } from './database/data-source.options.js';
import { MigrationRunner } from './database/migration-runner.js';
import { HealthModule } from './health/health.module.js';
import { JobsModule } from './jobs/jobs.module.js';
import { MessagesModule } from './messages/messages.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { OfficialAccountModule } from './official-account/official-account.module.js';
import { OfficialJssdkModule } from './official-account/jssdk/official-jssdk.module.js';
import { OfficialMenuModule } from './official-account/menu/official-menu.module.js';
import { OrdersModule } from './orders/orders.module.js';
import { PaymentsModule } from './payments/payments.module.js';
import { ProductsModule } from './products/products.module.js';
import { RedisModule } from './redis/redis.module.js';
import { SecurityModule } from './security/security.module.js';
import { UsersModule } from './users/users.module.js';
import { WechatDataModule } from './wechat-data/wechat-data.module.js';
import { WechatModule } from './wechat/wechat.module.js';

/**
 * Built from an already validated configuration (config/load-config.ts) rather than process.env,
 * so tests can start several differently configured apps in one process.
 */
@Module({})
export class AppModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({
          isGlobal: true,
          ignoreEnvFile: true,
          skipProcessEnv: true,
          validatePredefined: false,
          // One typed slice per area (config/config.slices.ts).
          load: sliceFactories(config),
        }),
        TypeOrmModule.forRootAsync({
          useFactory: () => {
            const sqlitePath = config.database.sqlitePath;
            if (sqlitePath && sqlitePath !== ':memory:') mkdirSync(dirname(sqlitePath), { recursive: true });
            // Migrations run in MigrationRunner, under a lock on MySQL.
            return {
              ...dataSourceOptions(config.database, { queryTimeoutMs: 2000 }),
              autoLoadEntities: true,
              migrationsRun: false,
            };
          },
        }),
        MetricsModule,
        RedisModule,
        SecurityModule,
        RateLimitModule,
        AuditModule,
        JobsModule.register({ redisUrl: config.redis.url }),
        WechatModule,
        PaymentsModule,
        UsersModule,
        ProductsModule,
        OrdersModule.register({ sandboxPay: config.wechatPay.mode === 'sandbox' }),
        AuthModule,
        WechatDataModule,
        MessagesModule,
        OfficialAccountModule,
        OfficialJssdkModule,
        OfficialMenuModule,
        HealthModule,
      ],
      providers: [
        MigrationRunner,
        { provide: APP_PIPE, useFactory: createValidationPipe },
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
      ],
    };
  }
}
