export interface JsonBounds {
  maxValues: number;
  maxDepth: number;
}

/**
 * Which bound parsed JSON crosses first, if any. Iterative, so that input nested thousands deep
 * cannot overflow the stack here, and stopped at the first bound crossed, so a huge input costs at
 * most `maxValues` steps (after one native Object.values call per object).
 */
export function exceededBound(root: unknown, bounds: JsonBounds): 'values' | 'depth' | null {
  const stack: Array<[unknown, number]> = [[root, 0]];
  let seen = 0;
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (++seen > bounds.maxValues) return 'values';
    if (value === null || typeof value !== 'object') continue;
    if (depth >= bounds.maxDepth) return 'depth';
    const children = Array.isArray(value) ? value : Object.values(value as object);
    if (seen + stack.length + children.length > bounds.maxValues) return 'values';
    for (const child of children) stack.push([child, depth + 1]);
  }
  return null;
}
