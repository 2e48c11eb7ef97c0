export interface JsonBounds {
  maxValues: number;
  maxDepth: number;
  /**
   * Also refuse keys that name a property of every object (`constructor`, `toString`, `__proto__`…):
   * no DTO has such a field, and class-transformer treats them as the instance's own members
   * instead of unknown properties, so the whitelist never saw them.
   */
  refuseReservedKeys?: boolean;
}

export type BoundCrossed = { bound: 'values' | 'depth' } | { bound: 'reserved'; key: string };

const isReserved = (key: string) => key === '__proto__' || key === 'prototype' || key in Object.prototype;

/**
 * Which bound parsed JSON crosses first, if any. Iterative, so that input nested thousands deep
 * cannot overflow the stack here, and stopped at the first bound crossed, so a huge input costs at
 * most `maxValues` steps (after one native Object.keys call per object).
 */
export function exceededBound(root: unknown, bounds: JsonBounds): BoundCrossed | null {
  const stack: Array<[unknown, number]> = [[root, 0]];
  let seen = 0;
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (++seen > bounds.maxValues) return { bound: 'values' };
    if (value === null || typeof value !== 'object') continue;
    if (depth >= bounds.maxDepth) return { bound: 'depth' };
    if (Array.isArray(value)) {
      if (seen + stack.length + value.length > bounds.maxValues) return { bound: 'values' };
      for (const child of value) stack.push([child, depth + 1]);
      continue;
    }
    const keys = Object.keys(value);
    if (seen + stack.length + keys.length > bounds.maxValues) return { bound: 'values' };
    for (const key of keys) {
      if (bounds.refuseReservedKeys && isReserved(key)) return { bound: 'reserved', key };
      stack.push([(value as Record<string, unknown>)[key], depth + 1]);
    }
  }
  return null;
}
