import { ErrorCode } from '../common/errors/error-code.js';
import { failure } from '../../test/support/app-errors.js';
import { refused } from '../../test/support/fake-pay-client.js';
import { orderWorld } from '../../test/support/in-memory-orders.js';
import { prepayDescription, PREPAY_REUSE_MS } from './order-payments.service.js';

describe('prepay description', () => {
  const titled = (...titles: string[]) => titles.map((title) => ({ title }));

  it('is the title of a single line', () => {
    expect(prepayDescription(titled('Green tea'))).toBe('Green tea');
  });

  it('adds " 等N件" with N the number of lines when there are several', () => {
    expect(prepayDescription(titled('Green tea', 'Cup', 'Pot'))).toBe('Green tea 等3件');
  });

  it('is cut to 127 characters, counting code points', () => {
    const long = '茶'.repeat(126);
    expect(prepayDescription(titled(long, 'Cup'))).toBe(`${long} `);
    expect([...prepayDescription(titled('😀'.repeat(200)))]).toHaveLength(127);
    expect(prepayDescription(titled('😀'.repeat(200)))).toBe('😀'.repeat(127));
  });
});

describe('OrderPayments', () => {
  async function setup(lines = 1) {
    // A day to pay: long enough for a prepay_id to age past its reuse limit.
    const w = orderWorld({ paymentTtlSeconds: 86_400 });
    const user = await w.buyer('o_payer');
    const products = w.stocked(lines, { price: 1234 });
    const order = await w.placement.place(user.id, 'k', {
      items: products.map((p) => ({ productId: p.id, quantity: 1 })),
    });
    return { w, user, order };
  }

  it('prepays with the contract fields and answers PayParams only', async () => {
    const { w, user, order } = await setup(2);
    const params = await w.payments.payParams(user.id, order.id);
    expect(Object.keys(params).sort()).toEqual(['nonceStr', 'package', 'paySign', 'signType', 'timeStamp']);
    expect(params.package).toBe('prepay_id=wx_fake_prepay_1');
    expect(w.pay.prepays).toEqual([
      {
        description: 'Product 1 等2件',
        outTradeNo: order.outTradeNo,
        timeExpire: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$/),
        totalAmount: 2468,
        payerOpenid: 'o_payer',
      },
    ]);
    const beijing = new Date(order.expiresAt.getTime() + 8 * 3600_000).toISOString().slice(0, 19);
    expect(w.pay.prepays[0].timeExpire).toBe(`${beijing}+08:00`);
    expect(w.orders.rows.get(order.id)).toMatchObject({
      prepayId: 'wx_fake_prepay_1',
      status: 'pending_payment',
    });
  });

  it('reuses the stored prepay_id while it is younger than 7,000 s, without calling WeChat Pay', async () => {
    const { w, user, order } = await setup();
    await w.payments.payParams(user.id, order.id);
    const stored = w.orders.rows.get(order.id)!.prepayCreatedAt!;
    const second = await w.payments.payParams(
      user.id,
      order.id,
      new Date(stored.getTime() + PREPAY_REUSE_MS - 1),
    );
    expect(second.package).toBe('prepay_id=wx_fake_prepay_1');
    expect(w.pay.count('prepay')).toBe(1);
  });

  it('asks WeChat Pay again once the stored prepay_id is 7,000 s old', async () => {
    const { w, user, order } = await setup();
    await w.payments.payParams(user.id, order.id);
    const stored = w.orders.rows.get(order.id)!.prepayCreatedAt!;
    const later = await w.payments.payParams(user.id, order.id, new Date(stored.getTime() + PREPAY_REUSE_MS));
    expect(later.package).toBe('prepay_id=wx_fake_prepay_2');
    expect(w.pay.count('prepay')).toBe(2);
  });

  it('a refused prepay keeps nothing, and the next call asks again', async () => {
    const { w, user, order } = await setup();
    w.pay.failNext('prepay', refused('PARAM_ERROR'));
    expect((await failure(w.payments.payParams(user.id, order.id))).code).toBe(ErrorCode.WECHAT_PAY_ERROR);
    expect(w.orders.rows.get(order.id)!.prepayId).toBeNull();
    expect((await w.payments.payParams(user.id, order.id)).package).toBe('prepay_id=wx_fake_prepay_1');
    expect(w.pay.count('prepay')).toBe(2);
  });

  it('past expiresAt: 409 / 40911 with the stored status, whatever it is', async () => {
    const { w, user, order } = await setup();
    const error = await failure(w.payments.payParams(user.id, order.id, new Date(order.expiresAt.getTime())));
    expect([error.code, error.data]).toEqual([ErrorCode.ORDER_STATE_CONFLICT, { status: 'pending_payment' }]);
    expect(w.pay.count('prepay')).toBe(0);
  });

  it('an order that is not pending_payment: 409 / 40911 with its status', async () => {
    const { w, user, order } = await setup();
    await w.actions.cancel(user.id, order.id, { ip: '', requestId: 'r', userAgent: null });
    const error = await failure(w.payments.payParams(user.id, order.id));
    expect([error.code, error.data]).toEqual([ErrorCode.ORDER_STATE_CONFLICT, { status: 'cancelled' }]);
  });

  it("another user's order is 404", async () => {
    const { w, order } = await setup();
    const other = await w.buyer('o_other');
    expect((await failure(w.payments.payParams(other.id, order.id))).code).toBe(ErrorCode.NOT_FOUND);
  });

  it('an order cancelled while WeChat Pay made the prepay: closed there, 409 / 40911', async () => {
    const { w, user, order } = await setup();
    const prepay = w.pay.prepay.bind(w.pay);
    w.pay.prepay = async (request) => {
      const answer = await prepay(request);
      // The cancel sees the prepay request and takes the close-and-query path.
      await w.actions.cancel(user.id, order.id, { ip: '', requestId: 'r', userAgent: null });
      return answer;
    };
    const error = await failure(w.payments.payParams(user.id, order.id));
    expect([error.code, error.data]).toEqual([ErrorCode.ORDER_STATE_CONFLICT, { status: 'cancelled' }]);
    expect(w.pay.calls.map((c) => c.api)).toEqual(['prepay', 'close', 'query', 'close']);
    expect(w.orders.rows.get(order.id)!.prepayId).toBeNull();
  });
});
