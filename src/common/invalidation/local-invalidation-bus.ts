import { Injectable } from '@nestjs/common';
import type { InvalidationBus, InvalidationTopic } from './invalidation-bus.port.js';

type Handlers = { onKeys: (keys: readonly string[]) => void; onReset: () => void };

/** One instance: invalidations only ever need to reach this process. */
@Injectable()
export class LocalInvalidationBus implements InvalidationBus {
  protected readonly handlers = new Map<InvalidationTopic, Handlers[]>();

  publish(topic: InvalidationTopic, keys: readonly string[]): Promise<void> {
    this.deliver(topic, keys);
    return Promise.resolve();
  }

  subscribe(topic: InvalidationTopic, onKeys: (keys: readonly string[]) => void, onReset: () => void): void {
    this.handlers.set(topic, [...(this.handlers.get(topic) ?? []), { onKeys, onReset }]);
  }

  isCurrent(): boolean {
    return true;
  }

  protected deliver(topic: InvalidationTopic, keys: readonly string[]): void {
    for (const handler of this.handlers.get(topic) ?? []) handler.onKeys(keys);
  }

  protected resetAll(): void {
    for (const list of this.handlers.values()) for (const handler of list) handler.onReset();
  }
}
