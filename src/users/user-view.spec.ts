import { maskPhone } from './user-view.js';

describe('maskPhone', () => {
  it.each([
    ['13800138000', '138****8000'],
    ['+86 138 0013 8000', '861****8000'],
    ['2025550123', '****0123'],
    ['12345', '****'],
  ])('%s → %s', (input, masked) => {
    expect(maskPhone(input)).toBe(masked);
  });
});
