import { beijingRfc3339, beijingStamp, newMerchantNo } from './out-trade-no.js';

describe('outTradeNo / outRefundNo', () => {
  it('is 32 digits: Beijing time to the millisecond, then 15 digits', () => {
    const at = new Date('2026-12-01T07:30:00.123Z');
    const no = newMerchantNo(at);
    expect(no).toMatch(/^\d{32}$/);
    expect(no.slice(0, 17)).toBe('20261201153000123');
  });

  it('crosses midnight and the year in Beijing time, not UTC', () => {
    expect(beijingStamp(new Date('2026-12-31T16:00:00.000Z'))).toBe('20270101000000000');
    expect(beijingStamp(new Date('2026-12-31T15:59:59.999Z'))).toBe('20261231235959999');
  });

  it('sorts by creation time to the millisecond', () => {
    const base = Date.parse('2026-06-01T00:00:00.000Z');
    const numbers = Array.from({ length: 50 }, (_, i) => newMerchantNo(new Date(base + i * 7)));
    expect([...numbers].sort()).toEqual(numbers);
  });

  it('differs within one millisecond (the random part), and the unique index catches the rest', () => {
    const at = new Date();
    const numbers = new Set(Array.from({ length: 1000 }, () => newMerchantNo(at)));
    expect(numbers.size).toBe(1000);
  });

  it('time_expire is RFC 3339 in Beijing time with the fraction of a second dropped', () => {
    expect(beijingRfc3339(new Date('2026-12-01T07:30:00.999Z'))).toBe('2026-12-01T15:30:00+08:00');
    expect(beijingRfc3339(new Date('2026-12-01T16:05:09.000Z'))).toBe('2026-12-02T00:05:09+08:00');
  });
});
