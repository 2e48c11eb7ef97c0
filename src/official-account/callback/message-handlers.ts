import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { OfficialMessage, OfficialReply } from './official-message.js';

/**
 * What a handler takes: messages of one `msgType` (`text`, `image`, …), or one event
 * (`{ msgType: 'event', event: 'CLICK' }`). Compared without regard to case.
 */
export interface MessageRoute {
  msgType: string;
  event?: string;
}

/**
 * A handler of callback messages. It runs after every check and the de-duplication; its reply is
 * sent passively when it comes within the callback's time budget, else as a customer-service text.
 * A failure is logged and answered `success`. The sender's last interaction is already recorded.
 */
export interface OfficialMessageHandler {
  handle(message: OfficialMessage): Promise<OfficialReply | null>;
}

const Discoverable = DiscoveryService.createDecorator<readonly MessageRoute[]>();

/**
 * Marks a provider as the handler of `routes`. Any module's provider will do: the registry finds
 * them at start-up (Nest's discovery), so a new kind of message needs no change to the callback.
 *
 *   @Injectable()
 *   @HandlesOfficialMessages({ msgType: 'event', event: 'LOCATION' })
 *   export class LocationHandler implements OfficialMessageHandler { … }
 */
export const HandlesOfficialMessages = (...routes: MessageRoute[]): ClassDecorator => Discoverable(routes);

const routeKey = (msgType: string, event?: string): string =>
  msgType.toLowerCase() === 'event' ? `event:${(event ?? '').toLowerCase()}` : `msg:${msgType.toLowerCase()}`;

/** The handler of each route, one per route (a second claim to one route stops the start). */
@Injectable()
export class OfficialMessageHandlers implements OnModuleInit {
  private readonly logger = new Logger('OfficialCallback');
  private readonly handlers = new Map<string, OfficialMessageHandler>();

  constructor(private readonly discovery: DiscoveryService) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders({ metadataKey: Discoverable.KEY })) {
      const routes = this.discovery.getMetadataByDecorator(Discoverable, wrapper) ?? [];
      const handler = wrapper.instance as OfficialMessageHandler | undefined;
      if (!handler || typeof handler.handle !== 'function') {
        throw new Error(`${wrapper.name} is marked @HandlesOfficialMessages() but has no handle()`);
      }
      for (const route of routes) this.register(route, handler);
    }
    this.logger.log(`official-account message handlers: ${[...this.handlers.keys()].sort().join(', ')}`);
  }

  /** Adds a handler at run time (what discovery does for decorated providers). */
  register(route: MessageRoute, handler: OfficialMessageHandler): void {
    const key = routeKey(route.msgType, route.event);
    const existing = this.handlers.get(key);
    if (existing && existing !== handler) throw new Error(`two official-account handlers for ${key}`);
    this.handlers.set(key, handler);
  }

  /** Takes a handler away again (tests that added one). */
  unregister(route: MessageRoute): void {
    this.handlers.delete(routeKey(route.msgType, route.event));
  }

  /** The handler of `message`'s route, or null: then nothing but the interaction is recorded. */
  handlerFor(message: OfficialMessage): OfficialMessageHandler | null {
    return this.handlers.get(routeKey(message.msgType, message.event)) ?? null;
  }
}
