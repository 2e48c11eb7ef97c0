import { CallbackXmlError, cdata, parseCallbackXml, textOf, textReplyXml } from './callback-xml.js';

const BILLION_LAUGHS =
  '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n' +
  Array.from({ length: 9 }, (_, i) => ` <!ENTITY lol${i + 1} "${`&lol${i || ''};`.repeat(10)}">`).join('\n') +
  '\n]>\n<xml><Content>&lol9;</Content></xml>';

const XXE =
  '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' +
  '<xml><ToUserName>gh_x</ToUserName><Content>&xxe;</Content></xml>';

function refusalTime(body: string | Buffer): number {
  const started = performance.now();
  expect(() => parseCallbackXml(body)).toThrow(CallbackXmlError);
  return performance.now() - started;
}

describe('parseCallbackXml', () => {
  it('reads a text message: CDATA as text, MsgId kept as the string of digits, nothing trimmed', () => {
    const xml = parseCallbackXml(
      '<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[o1]]></FromUserName>' +
        '<CreateTime>1409735668</CreateTime><MsgType><![CDATA[text]]></MsgType>' +
        '<Content><![CDATA[  hi ]]></Content><MsgId>18446744073709551615</MsgId></xml>',
    );
    expect(xml).toMatchObject({ ToUserName: 'gh_1', CreateTime: '1409735668', Content: '  hi ' });
    expect(textOf(xml, 'MsgId')).toBe('18446744073709551615');
    expect(textOf(xml, 'Missing')).toBeUndefined();
  });

  it('takes a declaration, a BOM, comments, nested events and "<!DOCTYPE" as CDATA text', () => {
    const xml = parseCallbackXml(
      Buffer.from(
        '\ufeff<?xml version="1.0" encoding="utf-8"?><!-- from WeChat --><xml><MsgType>event</MsgType>' +
          '<ScanCodeInfo><ScanType>qrcode</ScanType><ScanResult>1</ScanResult></ScanCodeInfo>' +
          '<Content><![CDATA[<!DOCTYPE x [<!ENTITY a "b">]>]]></Content></xml>',
      ),
    );
    expect(xml.ScanCodeInfo).toEqual({ ScanType: 'qrcode', ScanResult: '1' });
    expect(textOf(xml, 'Content')).toBe('<!DOCTYPE x [<!ENTITY a "b">]>');
    // A nested or repeated element is not read as text.
    expect(textOf(xml, 'ScanCodeInfo')).toBeUndefined();
  });

  it('joins a CDATA section split around "]]>", and leaves entity references as written', () => {
    const xml = parseCallbackXml('<xml><C><![CDATA[a]]]]><![CDATA[>b]]></C><D>1 &amp; 2</D></xml>');
    expect(textOf(xml, 'C')).toBe('a]]>b');
    expect(textOf(xml, 'D')).toBe('1 &amp; 2');
  });

  it('an empty <xml> is no elements', () => {
    expect(parseCallbackXml('<xml></xml>')).toEqual({});
    expect(parseCallbackXml('<xml/>')).toEqual({});
    expect(parseCallbackXml(' <xml /> <!-- end --><?pi x?>\n')).toEqual({});
    expect(parseCallbackXml('<xml><a>1</a></xml >')).toEqual({ a: '1' });
  });

  it.each([
    ['a DOCTYPE', '<!DOCTYPE xml><xml/>'],
    ['an ENTITY declaration after the root opened', '<xml><!ENTITY a "b"></xml>'],
    ['a lower-case doctype', '<!doctype xml><xml/>'],
    ['an unterminated CDATA', '<xml><![CDATA[x</xml>'],
    ['an unterminated comment', '<xml><!-- x</xml>'],
    ['unclosed elements', '<xml><a></xml>'],
    ['two roots', '<xml></xml><xml></xml>'],
    ['another root', '<message><a>1</a></message>'],
    ['text after the root', '<xml/>tail'],
    ['text after a closed root', '<xml></xml>tail'],
    ['text before the root', 'junk<xml/>'],
    ['text only', 'success'],
    ['an empty body', ''],
    ['JSON', '{"xml":1}'],
    ['nesting past 16 levels', `<xml>${'<a>'.repeat(20)}${'</a>'.repeat(20)}</xml>`],
    ['a prototype-polluting name', '<xml><__proto__><x>1</x></__proto__></xml>'],
  ])('refuses %s', (_what, body) => {
    expect(() => parseCallbackXml(body)).toThrow(CallbackXmlError);
  });

  it('refuses bytes that are not UTF-8', () => {
    expect(() =>
      parseCallbackXml(Buffer.from([0x3c, 0x78, 0x6d, 0x6c, 0x3e, 0xff, 0x3c, 0x2f, 0x78, 0x6d, 0x6c, 0x3e])),
    ).toThrow(CallbackXmlError);
  });

  it('refuses a billion-laughs body in milliseconds, expanding nothing', () => {
    expect(refusalTime(BILLION_LAUGHS)).toBeLessThan(50);
  });

  it('refuses an XXE body in milliseconds, reading no file', () => {
    expect(refusalTime(XXE)).toBeLessThan(50);
  });

  it('a 64 KiB hostile body (deep nesting, many declarations) is refused quickly too', () => {
    expect(refusalTime(`<xml>${'<a>'.repeat(21_000)}</xml>`)).toBeLessThan(500);
    expect(refusalTime(`<xml>${'<!-- -->'.repeat(8000)}<!ENTITY a "b"></xml>`)).toBeLessThan(500);
  });

  it('counts a parse over its 1 s budget as a refusal', () => {
    let t = 0;
    const clock = () => (t += 1200);
    expect(() => parseCallbackXml('<xml><a>1</a></xml>', clock)).toThrow(/budget/);
  });
});

describe('reply XML', () => {
  it('cdata splits "]]>" across two sections', () => {
    expect(cdata('a]]>b')).toBe('<![CDATA[a]]]]><![CDATA[>b]]>');
    expect(cdata(']]>]]>')).toBe('<![CDATA[]]]]><![CDATA[>]]]]><![CDATA[>]]>');
  });

  it('a text reply is the contract’s XML and parses back to the same text', () => {
    const text = 'x]]>y <b>&amp;</b> 你好';
    const xml = textReplyXml({ toUser: 'o1', fromUser: 'gh_1', createTime: 1700000000, content: text });
    expect(xml).toBe(
      '<xml><ToUserName><![CDATA[o1]]></ToUserName><FromUserName><![CDATA[gh_1]]></FromUserName>' +
        '<CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType>' +
        '<Content><![CDATA[x]]]]><![CDATA[>y <b>&amp;</b> 你好]]></Content></xml>',
    );
    expect(textOf(parseCallbackXml(xml), 'Content')).toBe(text);
  });
});
