import { XMLParser, XMLValidator } from 'fast-xml-parser';

/** Why a body is not a callback message; never shown to the caller (the answer is `bad request`). */
export class CallbackXmlError extends Error {
  override name = 'CallbackXmlError';
}

/** WeChat's deepest messages (SendPicsInfo > PicList > item > PicMd5Sum) are four levels under <xml>. */
const MAX_DEPTH = 16;
/** The contract's bound on one parse; a 64 KiB body parses in well under a millisecond. */
const PARSE_BUDGET_MS = 1000;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Entity processing off (even `&amp;` stays as written: WeChat sends text in CDATA, where
 * references are literal anyway), values kept as strings (a 64-bit MsgId would lose digits as a
 * number) and untrimmed (a text message's Content is matched as sent). No attribute is read.
 */
const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: false,
  processEntities: false,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  maxNestedTags: MAX_DEPTH,
});

/** The children of a callback's `<xml>` root: strings, nested objects, arrays for repeats. */
export type CallbackXml = Record<string, unknown>;

/**
 * Parses a callback body. Refused (CallbackXmlError): not UTF-8, any markup declaration (`<!DOCTYPE`,
 * `<!ENTITY`, …) outside CDATA and comments, checked before the parser sees the text, so that no
 * entity can be defined, let alone expanded (billion laughs) or fetched (XXE); not well-formed; a
 * root other than one `<xml>`; nesting past MAX_DEPTH; a parse slower than PARSE_BUDGET_MS.
 */
export function parseCallbackXml(
  body: Buffer | string,
  now: () => number = performance.now.bind(performance),
): CallbackXml {
  const started = now();
  let text: string;
  try {
    text = typeof body === 'string' ? body : strictUtf8.decode(body);
  } catch {
    throw new CallbackXmlError('not UTF-8');
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  refuseDeclarations(text);
  if (XMLValidator.validate(text) !== true || !endsWithRoot(text))
    throw new CallbackXmlError('not well-formed');
  let parsed: Record<string, unknown>;
  try {
    parsed = parser.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new CallbackXmlError(`not parsed: ${(error as Error).message}`);
  }
  // Whitespace around the root (beside comments) comes back as top-level text: not a root.
  const roots = Object.keys(parsed).filter(
    (key) => !(key === '#text' && typeof parsed[key] === 'string' && (parsed[key] as string).trim() === ''),
  );
  if (roots.length !== 1 || roots[0] !== 'xml') throw new CallbackXmlError('the root is not one <xml>');
  if (now() - started > PARSE_BUDGET_MS) throw new CallbackXmlError('parse over budget');
  const root = parsed.xml;
  if (root === '') return {};
  if (root === null || typeof root !== 'object' || Array.isArray(root)) {
    throw new CallbackXmlError('<xml> holds no elements');
  }
  return root as CallbackXml;
}

/** The text of element `name` when it occurs once as text (not nested, not repeated). */
export function textOf(xml: CallbackXml, name: string): string | undefined {
  const value = Object.hasOwn(xml, name) ? xml[name] : undefined;
  return typeof value === 'string' ? value : undefined;
}

/**
 * Whether the document ends with its root's end, give or take comments, processing instructions
 * and whitespace: the validator lets text after a self-closed root (`<xml/>tail`) through.
 */
function endsWithRoot(text: string): boolean {
  let end = text.trimEnd();
  for (;;) {
    if (end.endsWith('-->')) end = end.slice(0, Math.max(0, end.lastIndexOf('<!--'))).trimEnd();
    else if (end.endsWith('?>')) end = end.slice(0, Math.max(0, end.lastIndexOf('<?'))).trimEnd();
    else break;
  }
  return end.endsWith('</xml>') || /<xml\s*\/>$/.test(end.slice(-64)) || /<\/xml\s+>$/.test(end.slice(-64));
}

/**
 * Any `<!` that opens neither a comment nor a CDATA section is a markup declaration: refused
 * wherever it is. One pass over the text, so a hostile body costs linear time.
 */
function refuseDeclarations(text: string): void {
  for (let i = text.indexOf('<!'); i >= 0; i = text.indexOf('<!', i)) {
    if (text.startsWith('<![CDATA[', i)) {
      const end = text.indexOf(']]>', i + 9);
      if (end < 0) throw new CallbackXmlError('unterminated CDATA');
      i = end + 3;
    } else if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i + 4);
      if (end < 0) throw new CallbackXmlError('unterminated comment');
      i = end + 3;
    } else {
      throw new CallbackXmlError('markup declaration (DOCTYPE or ENTITY)');
    }
  }
}

/**
 * `text` as CDATA: a `]]>` inside is split across two sections (`]]` ends one, `>` starts the
 * next), the only way to carry it.
 */
export function cdata(text: string): string {
  return `<![CDATA[${text.replaceAll(']]>', ']]]]><![CDATA[>')}]]>`;
}

/** A passive text reply: to the sender, from the account (the message's To and From swapped). */
export function textReplyXml(reply: {
  toUser: string;
  fromUser: string;
  createTime: number;
  content: string;
}): string {
  return (
    `<xml><ToUserName>${cdata(reply.toUser)}</ToUserName><FromUserName>${cdata(reply.fromUser)}</FromUserName>` +
    `<CreateTime>${reply.createTime}</CreateTime><MsgType><![CDATA[text]]></MsgType>` +
    `<Content>${cdata(reply.content)}</Content></xml>`
  );
}

/** The wrapper of an encrypted reply (compatible and safe mode). */
export function encryptedReplyXml(reply: {
  encrypt: string;
  msgSignature: string;
  timestamp: number;
  nonce: string;
}): string {
  return (
    `<xml><Encrypt>${cdata(reply.encrypt)}</Encrypt><MsgSignature>${cdata(reply.msgSignature)}</MsgSignature>` +
    `<TimeStamp>${reply.timestamp}</TimeStamp><Nonce>${cdata(reply.nonce)}</Nonce></xml>`
  );
}
