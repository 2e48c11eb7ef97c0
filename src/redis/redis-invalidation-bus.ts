import { randomUUID } from 'node:crypto';
import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { AppError } from '../common/errors/app-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import { LocalInvalidationBus } from '../common/invalidation/local-invalidation-bus.js';
import type { InvalidationTopic } from '../common/invalidation/invalidation-bus.port.js';
import { RedisConnections } from './redis-connections.js';

const CHANNEL_PREFIX = 'wxb:invalidate:';
const TOPICS: InvalidationTopic[] = ['sessions', 'users'];
/**
 * A silent network closes nothing: the subscription is only trusted while Redis has answered a PING
 * on it within STALE_MS (messages sent before that answer have arrived: same connection, in order).
 */
const HEARTBEAT_MS = 500;
const STALE_MS = 1000;

/**
 * Invalidations over Redis pub/sub. While the subscription is down or silent, messages from other
 * instances may be lost, so `isCurrent()` turns false (caches are bypassed for the database, the
 * source of truth) and, once the subscription is back, every cache is dropped before it is trusted
 * again. Invalidations this instance could not publish are kept and published as soon as Redis
 * answers again, so the other instances learn them without anyone retrying.
 */
@Injectable()
export class RedisInvalidationBus extends LocalInvalidationBus implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('InvalidationBus');
  private readonly origin = randomUUID();
  private current = false;
  private lastPongAt = 0;
  private pinging = false;
  private heartbeat?: NodeJS.Timeout;
  private readonly unsent = new Map<InvalidationTopic, Set<string>>();

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
    this.redis.client!.on('ready', () => void this.publishUnsent());
    await this.resubscribe();
    this.heartbeat = setInterval(() => this.beat(), HEARTBEAT_MS).unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.heartbeat);
  }

  private beat(): void {
    void this.publishUnsent();
    if (this.pinging) return;
    this.pinging = true;
    this.redis
      .subscriber!.ping()
      .then(() => {
        this.lastPongAt = Date.now();
      })
      .catch(() => undefined)
      .finally(() => {
        this.pinging = false;
      });
  }

  private async resubscribe(): Promise<void> {
    try {
      await this.redis.subscriber!.subscribe(...TOPICS.map((t) => CHANNEL_PREFIX + t));
      this.resetAll();
      this.lastPongAt = Date.now();
      this.current = true;
    } catch (error) {
      this.current = false;
      this.logger.warn(`subscription failed: ${(error as Error).message}`);
    }
  }

  override async publish(topic: InvalidationTopic, keys: readonly string[]): Promise<void> {
    this.deliver(topic, keys);
    try {
      await this.send(topic, keys);
    } catch (error) {
      // The change is in the database, but other instances could not be told yet: say so rather
      // than report success, and tell them as soon as Redis answers again.
      this.keepUnsent(topic, keys);
      throw new AppError(ErrorCode.DEPENDENCY_UNAVAILABLE, undefined, { cause: error });
    }
  }

  override isCurrent(): boolean {
    return this.current && Date.now() - this.lastPongAt < STALE_MS;
  }

  private send(topic: InvalidationTopic, keys: readonly string[]): Promise<number> {
    return this.redis.client!.publish(CHANNEL_PREFIX + topic, JSON.stringify({ origin: this.origin, keys }));
  }

  private keepUnsent(topic: InvalidationTopic, keys: readonly string[]): void {
    const pending = this.unsent.get(topic) ?? new Set<string>();
    for (const key of keys) pending.add(key);
    this.unsent.set(topic, pending);
  }

  /** Publishes what could not be published before (all topics at once, ahead of later commands). */
  private async publishUnsent(): Promise<void> {
    if (this.unsent.size === 0 || this.redis.client!.status !== 'ready') return;
    const batches = [...this.unsent];
    this.unsent.clear();
    await Promise.all(
      batches.map(async ([topic, keys]) => {
        try {
          await this.send(topic, [...keys]);
        } catch {
          this.keepUnsent(topic, [...keys]);
        }
      }),
    );
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
