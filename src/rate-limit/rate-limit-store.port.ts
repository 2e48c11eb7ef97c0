/** One call counted in a fixed window: how many calls the window holds now, and when it resets. */
export interface WindowCount {
  count: number;
  msUntilReset: number;
}

/**
 * Counters of fixed windows, shared by every instance when the store is shared. Rejects (with the
 * store's own error) when it cannot count: the service then refuses rather than lets calls through.
 */
export abstract class RateLimitStore {
  abstract hit(limit: string, key: string, windowSeconds: number): Promise<WindowCount>;
}
