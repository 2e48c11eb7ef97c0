import { Controller, Get, Logger, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import {
  HealthCheckService,
  TypeOrmHealthIndicator,
  type HealthCheckResult,
  type HealthIndicatorResult,
} from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { Public } from '../common/auth/decorators.js';
import { RawResponse } from '../common/envelope/envelope.js';
import { RedisHealthIndicator } from './redis.health.js';
import { ShutdownState } from './shutdown-state.js';

/** Probes for orchestrators; outside the envelope by contract. */
@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  private readonly logger = new Logger('Health');
  /** The failing checks the last warning named: a dependency that stays down is logged once. */
  private lastFailure = '';

  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly shutdown: ShutdownState,
    private readonly redis: RedisHealthIndicator,
  ) {}

  @Get('live')
  @RawResponse()
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  @RawResponse()
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthCheckResult | object> {
    if (this.shutdown.stopping) {
      reply.status(503);
      return { status: 'error', error: { shutdown: { status: 'down' } } };
    }
    try {
      const result = await this.health.check([
        () => this.db.pingCheck('database', { timeout: 2000 }),
        ...(this.redis.configured ? [() => this.redis.check()] : []),
      ]);
      this.lastFailure = '';
      return statusesOnly(result);
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      reply.status(503);
      const result = error.getResponse() as HealthCheckResult;
      // The probe needs no authentication: drivers' messages (hosts, ports, users) stay in the log.
      const failing = Object.keys(result.error ?? {}).join(',');
      const level = failing === this.lastFailure ? 'debug' : 'warn';
      this.lastFailure = failing;
      this.logger[level]({ checks: result.error }, `not ready: ${failing} down`);
      return statusesOnly(result);
    }
  }
}

/** Each check's name and up/down, nothing else. */
function statusesOnly(result: HealthCheckResult): HealthCheckResult {
  const strip = (checks: Partial<HealthIndicatorResult> | undefined): HealthIndicatorResult | undefined =>
    checks === undefined
      ? undefined
      : Object.fromEntries(
          Object.entries(checks).map(([name, check]) => [name, { status: check?.status ?? 'down' }]),
        );
  return {
    status: result.status,
    info: strip(result.info),
    error: strip(result.error),
    details: strip(result.details) ?? {},
  };
}
