/**
 * The contract's rules for a menu's buttons, checked before WeChat sees them (WeChat's own errcodes
 * for what slips through become 40007). Names and keys are measured in UTF-8 bytes, as WeChat does:
 * 16 bytes are five Chinese characters and a letter.
 */

export interface ButtonProblem {
  /** Where, as the validation pipe names nested fields: `button.1.sub_button.0.name`. */
  field: string;
  message: string;
}

const TOP_MAX = 3;
const SUB_MAX = 5;
const TOP_NAME_BYTES = 16;
const SUB_NAME_BYTES = 60;
const KEY_BYTES = 128;
const URL_BYTES = 1024;
const PAGEPATH_CHARACTERS = 512;
const ARTICLE_ID_CHARACTERS = 128;
/** At most this many problems are listed (the validation pipe's own cap). */
const PROBLEMS_LISTED = 20;

const KEYED = [
  'click',
  'scancode_push',
  'scancode_waitmsg',
  'pic_sysphoto',
  'pic_photo_or_album',
  'pic_weixin',
  'location_select',
];

/** Each button type and the fields it carries besides `type` and `name`. */
export const BUTTON_FIELDS: Readonly<Record<string, readonly string[]>> = {
  ...Object.fromEntries(KEYED.map((type) => [type, ['key']])),
  view: ['url'],
  miniprogram: ['url', 'appid', 'pagepath'],
  article_id: ['article_id'],
  article_view_limited: ['article_id'],
};

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The problems of a menu's `button` list; empty when WeChat may be asked to take it. */
export function menuProblems(button: unknown): ButtonProblem[] {
  const problems: ButtonProblem[] = [];
  const report = (field: string, message: string) => {
    if (problems.length < PROBLEMS_LISTED) problems.push({ field, message: `${field} ${message}` });
  };
  if (!Array.isArray(button)) {
    report('button', 'must be a list of buttons');
    return problems;
  }
  if (button.length < 1 || button.length > TOP_MAX) report('button', `must hold 1-${TOP_MAX} buttons`);
  button.slice(0, TOP_MAX).forEach((top, i) => {
    const at = `button.${i}`;
    if (!isObject(top)) return report(at, 'must be an object');
    if ('sub_button' in top) return checkParent(top, at, report);
    checkLeaf(top, at, TOP_NAME_BYTES, report);
  });
  return problems;
}

function checkParent(
  top: Record<string, unknown>,
  at: string,
  report: (field: string, message: string) => void,
): void {
  for (const key of Object.keys(top)) {
    if (key !== 'name' && key !== 'sub_button') report(`${at}.${key}`, 'is not allowed beside sub_button');
  }
  checkName(top.name, `${at}.name`, TOP_NAME_BYTES, report);
  const subs = top.sub_button;
  if (!Array.isArray(subs) || subs.length < 1 || subs.length > SUB_MAX) {
    return report(`${at}.sub_button`, `must hold 1-${SUB_MAX} buttons`);
  }
  subs.forEach((sub, j) => {
    const subAt = `${at}.sub_button.${j}`;
    if (!isObject(sub)) return report(subAt, 'must be an object');
    if ('sub_button' in sub) return report(`${subAt}.sub_button`, 'is not allowed: menus have two levels');
    checkLeaf(sub, subAt, SUB_NAME_BYTES, report);
  });
}

function checkLeaf(
  button: Record<string, unknown>,
  at: string,
  nameBytes: number,
  report: (field: string, message: string) => void,
): void {
  const type = button.type;
  const fields = typeof type === 'string' ? BUTTON_FIELDS[type] : undefined;
  if (!fields) {
    report(
      `${at}.type`,
      `must be one of ${Object.keys(BUTTON_FIELDS).join(', ')} (or the button a sub_button list)`,
    );
    return;
  }
  checkName(button.name, `${at}.name`, nameBytes, report);
  for (const key of Object.keys(button)) {
    if (key !== 'type' && key !== 'name' && !fields.includes(key)) {
      report(`${at}.${key}`, `is not a field of a ${type} button`);
    }
  }
  for (const field of fields) {
    const value = button[field];
    const where = `${at}.${field}`;
    if (typeof value !== 'string') {
      report(where, `is required for a ${type} button`);
      continue;
    }
    if (field === 'key' && (value === '' || bytes(value) > KEY_BYTES))
      report(where, `must be 1-${KEY_BYTES} bytes`);
    if (field === 'url' && !isWebUrl(value))
      report(where, `must be an absolute http(s) URL of at most ${URL_BYTES} bytes`);
    if (field === 'appid' && !/^wx[0-9a-f]{16}$/.test(value)) {
      report(where, 'must be wx followed by 16 lower-case hex digits');
    }
    if (field === 'pagepath' && (value === '' || [...value].length > PAGEPATH_CHARACTERS)) {
      report(where, `must be 1-${PAGEPATH_CHARACTERS} characters`);
    }
    if (field === 'article_id' && (value === '' || [...value].length > ARTICLE_ID_CHARACTERS)) {
      report(where, `must be 1-${ARTICLE_ID_CHARACTERS} characters`);
    }
  }
}

function checkName(
  name: unknown,
  where: string,
  maxBytes: number,
  report: (field: string, message: string) => void,
): void {
  if (typeof name !== 'string' || name === '' || bytes(name) > maxBytes) {
    report(where, `must be 1-${maxBytes} bytes of UTF-8`);
  }
}

function isWebUrl(value: string): boolean {
  // eslint-disable-next-line no-control-regex
  if (bytes(value) > URL_BYTES || !/^https?:\/\//i.test(value) || /[\u0000-\u0020\u007f]/.test(value))
    return false;
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}
