import { InvalidatedCache } from './invalidated-cache.js';
import { LocalInvalidationBus } from './local-invalidation-bus.js';

class SwitchableBus extends LocalInvalidationBus {
  current = true;
  override isCurrent(): boolean {
    return this.current;
  }
  reset(): void {
    this.resetAll();
  }
}

describe('InvalidatedCache', () => {
  let bus: SwitchableBus;
  let cache: InvalidatedCache<string>;
  let loads: number;
  let value: string;
  const load = () => {
    loads++;
    return Promise.resolve(value);
  };

  beforeEach(() => {
    bus = new SwitchableBus();
    cache = new InvalidatedCache(bus, 'sessions', { max: 10, maxAgeMs: 60_000 });
    loads = 0;
    value = 'live';
  });

  it('answers from memory until the key is invalidated, then reloads', async () => {
    expect(await cache.getOrLoad('s1', load)).toBe('live');
    expect(await cache.getOrLoad('s1', load)).toBe('live');
    expect(loads).toBe(1);
    value = 'revoked';
    await cache.invalidate(['s1']);
    expect(await cache.getOrLoad('s1', load)).toBe('revoked');
    expect(loads).toBe(2);
  });

  it('does not keep a value read while an invalidation happened', async () => {
    const raced = cache.getOrLoad('s1', async () => {
      await cache.invalidate(['s1']);
      return 'stale';
    });
    expect(await raced).toBe('stale');
    expect(await cache.getOrLoad('s1', load)).toBe('live');
  });

  it('goes to the source while invalidations may have been missed, and forgets all on reset', async () => {
    await cache.getOrLoad('s1', load);
    bus.current = false;
    value = 'revoked elsewhere';
    expect(await cache.getOrLoad('s1', load)).toBe('revoked elsewhere');
    bus.current = true;
    bus.reset();
    expect(await cache.getOrLoad('s1', load)).toBe('revoked elsewhere');
    expect(loads).toBe(3);
  });
});
