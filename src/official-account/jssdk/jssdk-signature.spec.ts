import { jssdkSignature, newNonceStr } from './jssdk-signature.js';

describe('jssdkSignature', () => {
  it("reproduces the example of WeChat's JS-SDK documentation", () => {
    expect(
      jssdkSignature({
        ticket: 'sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg',
        nonceStr: 'Wm3WZYTPz0wzccnW',
        timestamp: 1414587457,
        url: 'http://mp.weixin.qq.com?params=value',
      }),
    ).toBe('0f9de62fce790f9a083d5c99e95740ceb90c27ed');
  });

  it('signs the URL exactly as given: another spelling of the same page is another signature', () => {
    const base = { ticket: 't', nonceStr: 'n', timestamp: 1 };
    const signatures = new Set(
      [
        'https://h5.example.com/a?x=中',
        'https://h5.example.com/a?x=%E4%B8%AD',
        'https://H5.example.com/a?x=中',
        'https://h5.example.com/a/?x=中',
      ].map((url) => jssdkSignature({ ...base, url })),
    );
    expect(signatures.size).toBe(4);
  });
});

describe('newNonceStr', () => {
  it('is 16 of A-Za-z0-9, fresh each time', () => {
    const nonces = Array.from({ length: 200 }, newNonceStr);
    for (const nonce of nonces) expect(nonce).toMatch(/^[A-Za-z0-9]{16}$/);
    expect(new Set(nonces).size).toBe(200);
  });
});
