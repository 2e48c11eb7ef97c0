import { AppError } from '../errors/app-error.js';
import { ErrorCode } from '../errors/error-code.js';
import { checkAllowedPageUrl } from './allowed-page-url.js';

const ALLOWLIST = ['https://h5.example.com', 'http://127.0.0.1:8080'];

/** The code a URL gets (0: accepted, the URL handed back unchanged). */
function codeOf(url: unknown, allowlist: readonly string[] = ALLOWLIST): number {
  try {
    expect(checkAllowedPageUrl(url, allowlist)).toBe(url);
    return 0;
  } catch (error) {
    return (error as { code: number }).code;
  }
}

describe('checkAllowedPageUrl', () => {
  it.each([
    'https://h5.example.com',
    'https://h5.example.com/',
    'https://h5.example.com/pay?order=1&from=menu',
    'https://H5.Example.COM/page',
    'HTTPS://h5.example.com/page',
    'https://h5.example.com:443/page',
    'http://127.0.0.1:8080/index.html?x=%E4%B8%AD',
    'https://h5.example.com/页面?q=中',
    `https://h5.example.com/${'a'.repeat(1024 - 'https://h5.example.com/'.length)}`,
  ])('accepts %s, its origin (as WHATWG writes it) on the list', (url) => {
    expect(codeOf(url)).toBe(0);
  });

  it.each([
    ['https://h5.example.org/', 'another host'],
    ['https://h5.example.com.evil.com/', 'a longer host'],
    ['http://h5.example.com/', 'another scheme'],
    ['https://h5.example.com:8443/', 'another port'],
    ['http://127.0.0.1/', 'the default port instead of the listed one'],
    ['https://evil.com\\@h5.example.com/', 'a backslash trick'],
    ['https://user@h5.example.com/', 'user info'],
    ['https://user:pw@h5.example.com/', 'user info with a password'],
    ['https://@h5.example.com/', 'empty user info'],
  ])('refuses %s (%s) with 40004', (url) => {
    expect(codeOf(url)).toBe(ErrorCode.REDIRECT_NOT_ALLOWED);
  });

  it('refuses everything with an empty allow-list', () => {
    expect(codeOf('https://h5.example.com/', [])).toBe(ErrorCode.REDIRECT_NOT_ALLOWED);
  });

  it.each<[unknown, string]>([
    ['https://h5.example.com/#/home', 'a fragment'],
    ['https://h5.example.com/#', 'an empty fragment'],
    [`https://h5.example.com/${'a'.repeat(1025 - 'https://h5.example.com/'.length)}`, '1,025 characters'],
    ['//h5.example.com/', 'no scheme'],
    ['/pay', 'a path'],
    ['ftp://h5.example.com/', 'ftp'],
    ['javascript:alert(1)', 'javascript'],
    ['http:h5.example.com', 'no slashes'],
    ['https://h5.example.com/a b', 'a space'],
    [' https://h5.example.com/', 'a leading space'],
    ['https://h5.example.com/\n', 'a control character'],
    ['https://', 'no host'],
    ['', 'empty'],
    [42, 'not a string'],
    [undefined, 'missing'],
  ])('refuses %j (%s) with 40000 naming the field', (url) => {
    let refused: unknown;
    try {
      checkAllowedPageUrl(url, ALLOWLIST, 'redirect');
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({
      code: ErrorCode.VALIDATION_FAILED,
      data: { errors: [{ field: 'redirect', message: expect.stringMatching(/^redirect /) }] },
    });
  });
});
