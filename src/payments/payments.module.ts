import {
  Inject,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { wechatPayConfig, type WechatPaySlice } from '../config/config.slices.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { WECHAT_PAY_CLIENT, WECHAT_PAY_NOTIFICATIONS, WECHAT_PAY_SANDBOX } from './wechat-pay-client.port.js';
import { createWechatPay, type WechatPayRuntime } from './wechat-pay.factory.js';

const WECHAT_PAY_RUNTIME = Symbol('WECHAT_PAY_RUNTIME');

/**
 * WeChat Pay behind its ports, by WECHAT_PAY_MODE: WECHAT_PAY_CLIENT (live HTTP, the in-process
 * sandbox, or off), WECHAT_PAY_NOTIFICATIONS (the verifier of notifications) and WECHAT_PAY_SANDBOX
 * (the stand-in's controls; null outside the sandbox).
 */
@Module({
  imports: [MetricsModule],
  providers: [
    {
      provide: WECHAT_PAY_RUNTIME,
      inject: [wechatPayConfig.KEY, MetricsService],
      useFactory: (config: WechatPaySlice, metrics: MetricsService) => createWechatPay(config, metrics),
    },
    {
      provide: WECHAT_PAY_CLIENT,
      inject: [WECHAT_PAY_RUNTIME],
      useFactory: (r: WechatPayRuntime) => r.client,
    },
    {
      provide: WECHAT_PAY_NOTIFICATIONS,
      inject: [WECHAT_PAY_RUNTIME],
      useFactory: (r: WechatPayRuntime) => r.notifications,
    },
    {
      provide: WECHAT_PAY_SANDBOX,
      inject: [WECHAT_PAY_RUNTIME],
      useFactory: (r: WechatPayRuntime) => r.sandbox,
    },
  ],
  exports: [WECHAT_PAY_CLIENT, WECHAT_PAY_NOTIFICATIONS, WECHAT_PAY_SANDBOX],
})
export class PaymentsModule implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('WechatPay');

  constructor(@Inject(WECHAT_PAY_RUNTIME) private readonly runtime: WechatPayRuntime) {}

  onApplicationBootstrap(): void {
    const { client, certificates, describe } = this.runtime;
    // The sandbox is already among the configuration's warnings; off is worth one in production.
    if (client.mode === 'off') this.logger.warn(describe);
    else this.logger.log(describe);
    // Without a public key every answer needs a certificate: fetch them now, in the background (a
    // WeChat Pay that is down must not stop the start). It counts as the minute's download.
    if (certificates && this.runtime.downloadCertificatesAtStart) void certificates.refresh();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runtime.http?.onApplicationShutdown();
  }
}
