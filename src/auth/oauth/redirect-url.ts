/**
 * What the Location header carries for an allowed `redirect` (common/http/allowed-page-url.ts has
 * checked it): the URL exactly as given when it is printable ASCII, as WeChat pages compare it,
 * else the WHATWG serialisation (percent-encoded path and query, punycode host), which a header can
 * carry and which names the same page.
 */
export function locationOf(value: string): string {
  return /^[\x21-\x7e]*$/.test(value) ? value : new URL(value).href;
}
