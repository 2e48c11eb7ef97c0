import { matchClick, matchText, type AutoReplyRule } from './auto-reply-matching.js';

let n = 0;
function rule(
  match: AutoReplyRule['match'],
  keyword: string,
  extra: Partial<AutoReplyRule> = {},
): AutoReplyRule {
  n++;
  return {
    id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    match,
    keyword,
    reply: `${match}:${keyword}`,
    enabled: true,
    createdAt: new Date(1_700_000_000_000 + n * 1000),
    ...extra,
  };
}

describe('auto-reply matching', () => {
  it('an exact rule matches the text trimmed of surrounding whitespace, before any contains rule', () => {
    const rules = [
      rule('contains', 'hello world, longer'),
      rule('contains', 'hello'),
      rule('exact', 'hello'),
    ];
    expect(matchText('  hello\n', rules)?.reply).toBe('exact:hello');
    expect(matchText('hello there', rules)?.reply).toBe('contains:hello');
  });

  it('exact compares the whole trimmed text, inner whitespace included', () => {
    const rules = [rule('exact', 'a b')];
    expect(matchText(' a b ', rules)?.reply).toBe('exact:a b');
    expect(matchText('a  b', rules)).toBeNull();
    expect(matchText('a b c', rules)).toBeNull();
  });

  it('the longest contained keyword wins, the oldest among equally long ones', () => {
    const older = rule('contains', 'ab');
    const longest = rule('contains', 'abcd');
    const newer = rule('contains', 'cd');
    expect(matchText('xxabcdxx', [newer, older, longest])?.reply).toBe('contains:abcd');
    expect(matchText('xxab cdxx', [newer, older, longest])?.reply).toBe('contains:ab');
  });

  it('length counts characters, not bytes or UTF-16 units', () => {
    const rules = [rule('contains', '你好吗'), rule('contains', 'abcd'), rule('contains', '😀😀')];
    expect(matchText('abcd 你好吗', rules)?.reply).toBe('contains:abcd');
    expect(matchText('😀😀 你好吗', rules)?.reply).toBe('contains:你好吗');
  });

  it('contains looks at the text as sent (whitespace is part of it)', () => {
    expect(matchText('say hi ', [rule('contains', 'hi ')])?.reply).toBe('contains:hi ');
  });

  it('is case-sensitive', () => {
    const rules = [rule('exact', 'Hi'), rule('contains', 'Yes')];
    expect(matchText('hi', rules)).toBeNull();
    expect(matchText('HI', rules)).toBeNull();
    expect(matchText('yes please', rules)).toBeNull();
    expect(matchText('Hi', rules)?.reply).toBe('exact:Hi');
  });

  it('ignores disabled rules and click rules for text', () => {
    const rules = [rule('exact', 'menu', { enabled: false }), rule('click', 'menu'), rule('contains', 'men')];
    expect(matchText('menu', rules)?.reply).toBe('contains:men');
    expect(matchText('nothing', rules)).toBeNull();
  });

  it('a click matches the enabled click rule whose keyword is the EventKey exactly', () => {
    const rules = [
      rule('click', 'V1001', { enabled: false }),
      rule('exact', 'V1002'),
      rule('click', 'V1002'),
    ];
    expect(matchClick('V1002', rules)?.reply).toBe('click:V1002');
    expect(matchClick('V1001', rules)).toBeNull();
    expect(matchClick('v1002', rules)).toBeNull();
    expect(matchClick(' V1002', rules)).toBeNull();
  });
});
