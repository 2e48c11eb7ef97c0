import { createHash } from 'node:crypto';
import type { AutoReplyEntity } from './auto-reply.entity.js';

export type AutoReplyRule = Pick<
  AutoReplyEntity,
  'id' | 'match' | 'keyword' | 'reply' | 'enabled' | 'createdAt'
>;

export const keywordHash = (keyword: string): string =>
  createHash('sha256').update(keyword, 'utf8').digest('hex');

/** Characters (code points): the length that makes one keyword longer than another. */
const characters = (text: string): number => {
  let n = 0;
  for (const _ of text) n++;
  return n;
};

/** Oldest first; rules made in the same millisecond by id, so the order is total. */
export function byAge(a: AutoReplyRule, b: AutoReplyRule): number {
  return a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * The rule answering a text message, among enabled rules: an `exact` rule whose keyword is the
 * Content trimmed of surrounding whitespace; else the `contains` rule with the longest keyword found
 * in the Content (as sent), the oldest among equally long ones. Case-sensitive throughout.
 */
export function matchText(content: string, rules: readonly AutoReplyRule[]): AutoReplyRule | null {
  const trimmed = content.trim();
  const live = rules.filter((rule) => rule.enabled);
  const exact = live.filter((rule) => rule.match === 'exact' && rule.keyword === trimmed).sort(byAge);
  if (exact.length > 0) return exact[0];
  let best: AutoReplyRule | null = null;
  let bestLength = 0;
  for (const rule of live) {
    if (rule.match !== 'contains' || !content.includes(rule.keyword)) continue;
    const length = characters(rule.keyword);
    if (!best || length > bestLength || (length === bestLength && byAge(rule, best) < 0)) {
      best = rule;
      bestLength = length;
    }
  }
  return best;
}

/** The enabled `click` rule whose keyword is the button's EventKey. */
export function matchClick(eventKey: string, rules: readonly AutoReplyRule[]): AutoReplyRule | null {
  return (
    rules
      .filter((rule) => rule.enabled && rule.match === 'click' && rule.keyword === eventKey)
      .sort(byAge)[0] ?? null
  );
}
