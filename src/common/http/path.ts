/** A request target without its query string: what logs may hold (queries can carry codes). */
export function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}
