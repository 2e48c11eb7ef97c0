import { createHash } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { AppError } from '../../common/errors/app-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';

/**
 * Keys seen within a window, shared by every instance when they share Redis: the callback's
 * (timestamp, nonce) pairs and its messages' de-duplication keys. Each store has one window, so
 * its memory entries expire in the order they were made.
 */
export abstract class SeenKeys {
  /**
   * true the first time `key` is offered within the window, false after; AppError 50300 when the
   * shared store cannot be asked (the caller decides what that means).
   */
  abstract firstTime(key: string): Promise<boolean>;
}

/** Stored keys are digests: openids and message ids stay out of Redis and out of memory dumps. */
const digest = (key: string): string => createHash('sha256').update(key, 'utf8').digest('base64url');

/** In this process only (no REDIS_URL: one instance). */
export class MemorySeenKeys extends SeenKeys {
  private readonly until = new Map<string, number>();

  constructor(
    private readonly windowSeconds: number,
    private readonly now: () => number = Date.now,
  ) {
    super();
  }

  firstTime(key: string): Promise<boolean> {
    const now = this.now();
    // Insertion order is expiry order (one window): drop the lapsed entries from the front.
    for (const [stored, until] of this.until) {
      if (until > now) break;
      this.until.delete(stored);
    }
    const id = digest(key);
    if (this.until.has(id)) return Promise.resolve(false);
    this.until.set(id, now + this.windowSeconds * 1000);
    return Promise.resolve(true);
  }

  get size(): number {
    return this.until.size;
  }
}

/** SET NX EX in Redis: one answer for every instance, and the window kept by Redis itself. */
export class RedisSeenKeys extends SeenKeys {
  private readonly logger = new Logger('OfficialCallback');

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly windowSeconds: number,
  ) {
    super();
  }

  async firstTime(key: string): Promise<boolean> {
    try {
      const answer = await this.redis.set(
        `${this.prefix}${digest(key)}`,
        '1',
        'EX',
        this.windowSeconds,
        'NX',
      );
      return answer === 'OK';
    } catch (error) {
      this.logger.warn(
        `Redis did not answer (${this.prefix}): ${(error as Error)?.message ?? String(error)}`,
      );
      throw new AppError(ErrorCode.DEPENDENCY_UNAVAILABLE, undefined, { cause: error });
    }
  }
}
