import { randomUUID } from 'node:crypto';
import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { AppError } from '../common/errors/app-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import { LocalInvalidationBus } from '../common/invalidation/local-invalidation-bus.js';
import type { InvalidationTopic } from '../common/invalidation/invalidation-bus.port.js';
import { RedisConnections } from './redis-connections.js';

const CHANNEL_PREFIX = 'wxb:invalidate:';
const TOPICS: InvalidationTopic[] = ['sessions', 'users'];

/**
 * Invalidations over Redis pub/sub. While the subscription is down, messages from other instances
 * may be lost, so `isCurrent()` turns false (caches are bypassed for the database, the source of
 * truth) and, once the subscription is back, every cache is dropped before it is trusted again.
 */
@Injectable()
export class RedisInvalidationBus extends LocalInvalidationBus implements OnModuleInit {
  private readonly logger = new Logger('InvalidationBus');
  private readonly origin = randomUUID();
  private current = false;

  constructor(private readonly redis: RedisConnections) {
    super();
  }

  async onModuleInit(): Promise<void> {
    const subscriber = this.redis.subscriber!;
    subscriber.on('message', (channel: string, raw: string) => this.onMessage(channel, raw));
    const lost = () => {
      this.current = false;
    };
    subscriber.on('close', lost);
    subscriber.on('end', lost);
    subscriber.on('reconnecting', lost);
    subscriber.on('ready', () => void this.resubscribe());
    await this.resubscribe();
  }

  private async resubscribe(): Promise<void> {
    try {
      await this.redis.subscriber!.subscribe(...TOPICS.map((t) => CHANNEL_PREFIX + t));
      this.resetAll();
      this.current = true;
    } catch (error) {
      this.current = false;
      this.logger.warn(`subscription failed: ${(error as Error).message}`);
    }
  }

  override async publish(topic: InvalidationTopic, keys: readonly string[]): Promise<void> {
    this.deliver(topic, keys);
    try {
      await this.redis.client!.publish(CHANNEL_PREFIX + topic, JSON.stringify({ origin: this.origin, keys }));
    } catch (error) {
      // The change is in the database, but other instances could not be told: say so rather
      // than report success. Their subscriptions are likely down too, which makes them read the
      // database instead of their caches.
      throw new AppError(ErrorCode.DEPENDENCY_UNAVAILABLE, undefined, { cause: error });
    }
  }

  override isCurrent(): boolean {
    return this.current;
  }

  private onMessage(channel: string, raw: string): void {
    if (!channel.startsWith(CHANNEL_PREFIX)) return;
    try {
      const message = JSON.parse(raw) as { origin?: string; keys?: unknown };
      if (message.origin === this.origin || !Array.isArray(message.keys)) return;
      this.deliver(channel.slice(CHANNEL_PREFIX.length) as InvalidationTopic, message.keys.map(String));
    } catch {
      this.logger.warn('ignored a malformed invalidation message');
    }
  }
}
