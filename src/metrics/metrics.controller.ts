import { timingSafeEqual } from 'node:crypto';
import { Controller, Get, Headers, Inject, Res } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../common/auth/decorators.js';
import { RawResponse } from '../common/envelope/envelope.js';
import { AppError } from '../common/errors/app-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import { metricsConfig } from '../config/config.slices.js';
import { MetricsService } from './metrics.service.js';

/** GET /metrics (no /api/v1 prefix), Prometheus text; METRICS_TOKEN, when set, is required. */
@ApiExcludeController()
@Public()
@Controller('metrics')
export class MetricsController {
  private readonly expected: Buffer | null;

  constructor(
    private readonly metrics: MetricsService,
    @Inject(metricsConfig.KEY) { token }: ConfigType<typeof metricsConfig>,
  ) {
    this.expected = token ? Buffer.from(`Bearer ${token}`) : null;
  }

  @Get()
  @RawResponse()
  async scrape(
    @Headers('authorization') authorization: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    if (this.expected) {
      const given = Buffer.from(authorization ?? '');
      if (given.length !== this.expected.length || !timingSafeEqual(given, this.expected)) {
        throw new AppError(ErrorCode.UNAUTHENTICATED, 'metrics token required');
      }
    }
    reply.header('Content-Type', this.metrics.registry.contentType);
    return this.metrics.registry.metrics();
  }
}
