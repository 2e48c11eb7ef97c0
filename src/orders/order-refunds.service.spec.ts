import { AppError } from '../common/errors/app-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import { failure } from '../../test/support/app-errors.js';
import {
  FAKE_APPID,
  FAKE_MCHID,
  refundNotification,
  refused,
  transactionNotification,
} from '../../test/support/fake-pay-client.js';
import { orderWorld } from '../../test/support/in-memory-orders.js';
import { META } from '../../test/support/unit-world.js';
import { planRefund, refundableOf, refundEndOf } from './refund-rules.js';

describe('refund rules (pure)', () => {
  const order = { status: 'paid' as const, totalAmount: 1000, refundedAmount: 300 };

  it('refundable = total − refunded − what processing refunds hold', () => {
    expect(refundableOf(order, [])).toBe(700);
    expect(
      refundableOf(order, [
        { status: 'processing', amount: 200 },
        { status: 'succeeded', amount: 300 },
        { status: 'failed', amount: 500 },
        { status: 'closed', amount: 100 },
        { status: 'abnormal', amount: 100 },
      ]),
    ).toBe(500);
  });

  it('no amount: all that remains, a full refund; less: partial; exactly the rest: full', () => {
    expect(planRefund(order, [], undefined)).toEqual({ amount: 700, action: 'refund_full' });
    expect(planRefund(order, [], 699)).toEqual({ amount: 699, action: 'refund_partial' });
    expect(planRefund(order, [{ status: 'processing', amount: 200 }], 500)).toEqual({
      amount: 500,
      action: 'refund_full',
    });
  });

  it.each([
    [701, 700],
    [2, 0],
  ])('%i fen over %i refundable: 409 / 40913 with data.refundable', (amount, refundable) => {
    const processing = [{ status: 'processing' as const, amount: 700 - refundable }];
    let thrown: unknown;
    try {
      planRefund(order, processing, amount);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AppError);
    expect([(thrown as AppError).code, (thrown as AppError).data]).toEqual([
      ErrorCode.REFUND_EXCEEDS_REFUNDABLE,
      { refundable },
    ]);
  });

  it('nothing left and no amount: 40913 refundable 0', () => {
    expect(() => planRefund(order, [{ status: 'processing', amount: 700 }], undefined)).toThrow(
      expect.objectContaining({ code: ErrorCode.REFUND_EXCEEDS_REFUNDABLE, data: { refundable: 0 } }),
    );
  });

  it.each(['pending_payment', 'cancelled', 'refunding', 'refunded'] as const)(
    'an order %s takes no refund: 40911 with its status (before any amount check)',
    (status) => {
      expect(() => planRefund({ ...order, status }, [], 1_000_000)).toThrow(
        expect.objectContaining({ code: ErrorCode.ORDER_STATE_CONFLICT, data: { status } }),
      );
    },
  );

  it("WeChat Pay's refund statuses", () => {
    expect(['SUCCESS', 'CLOSED', 'ABNORMAL', 'PROCESSING', ''].map(refundEndOf)).toEqual([
      'succeeded',
      'closed',
      'abnormal',
      undefined,
      undefined,
    ]);
  });
});

describe('refunds (OrderRefunds, RefundSettlement, refund notifications)', () => {
  /** A paid order of 2 × 500 fen. */
  async function paidOrder(status: 'paid' | 'shipped' | 'completed' = 'paid') {
    const w = orderWorld();
    const user = await w.buyer();
    const admin = await w.buyer('o_admin');
    const [p] = w.stocked(1, { price: 500, stock: 5 });
    const placed = await w.placement.place(user.id, 'k', { items: [{ productId: p.id, quantity: 2 }] });
    await w.payments.payParams(user.id, placed.id);
    await w.notifications.handleTransaction(
      transactionNotification({
        mchid: FAKE_MCHID,
        appid: FAKE_APPID,
        outTradeNo: placed.outTradeNo,
        transactionId: '4200000000000000000000000001',
        tradeState: 'SUCCESS',
        successTime: '2026-12-01T15:30:00+08:00',
        total: placed.totalAmount,
      }),
    );
    if (status !== 'paid') await w.actions.ship(admin.id, placed.id, undefined, META);
    if (status === 'completed') await w.actions.confirm(user.id, placed.id, META);
    const stored = () => w.orders.rows.get(placed.id)!;
    const refundsOf = () => w.orders.refunds.filter((r) => r.orderId === placed.id);
    return { w, user, admin, order: placed, stored, refundsOf };
  }

  it('a partial refund: processing, status unchanged, sent to WeChat Pay as the contract says', async () => {
    const { w, admin, order, stored, refundsOf } = await paidOrder();
    const after = await w.refunds.request(admin.id, order.id, { amount: 300, reason: 'damaged' }, META);
    expect(after).toMatchObject({ status: 'paid', refundedAmount: 0 });
    const [refund] = refundsOf();
    expect(refund).toMatchObject({ amount: 300, reason: 'damaged', status: 'processing', completedAt: null });
    expect(refund.outRefundNo).toMatch(/^\d{32}$/);
    expect(refund.nextQueryAt!.getTime() - refund.createdAt.getTime()).toBe(60_000);
    expect(w.pay.refundRequests).toEqual([
      {
        outTradeNo: order.outTradeNo,
        outRefundNo: refund.outRefundNo,
        reason: 'damaged',
        refund: 300,
        total: 1000,
      },
    ]);
    expect(stored().statusBeforeRefunding).toBeNull();
    expect(w.events(order.id)).toEqual(['order_created', 'order_paid', 'refund_requested']);
  });

  it('succeeded adds to refundedAmount; a second refund of the rest ends the order refunded', async () => {
    const { w, admin, order, stored, refundsOf } = await paidOrder('shipped');
    await w.refunds.request(admin.id, order.id, { amount: 300, reason: 'part' }, META);
    const first = refundsOf()[0];
    await w.refundNotifications.handleRefund(
      refundNotification(w.pay.settleRefund(first.outRefundNo, 'SUCCESS')),
    );
    expect(stored()).toMatchObject({ status: 'shipped', refundedAmount: 300 });
    expect(refundsOf()[0]).toMatchObject({ status: 'succeeded' });
    expect(refundsOf()[0].completedAt?.toISOString()).toBe('2026-12-01T08:00:00.000Z');

    // No amount: all that remains (700), so the order waits in `refunding`.
    await w.refunds.request(admin.id, order.id, { reason: 'rest' }, META);
    expect(stored()).toMatchObject({ status: 'refunding', statusBeforeRefunding: 'shipped' });
    const second = refundsOf()[1];
    expect(second.amount).toBe(700);
    await w.refundNotifications.handleRefund(
      refundNotification(w.pay.settleRefund(second.outRefundNo, 'SUCCESS')),
    );
    expect(stored()).toMatchObject({ status: 'refunded', refundedAmount: 1000, statusBeforeRefunding: null });
    expect(w.events(order.id)).toEqual([
      'order_created',
      'order_paid',
      'order_shipped',
      'refund_requested',
      'refund_succeeded',
      'refund_requested',
      'refund_succeeded',
    ]);
    expect(await w.counted('refunded')).toBe(1);
  });

  it('an amount over what remains: 409 / 40913, nothing recorded, nothing sent', async () => {
    const { w, admin, order, refundsOf } = await paidOrder();
    await w.refunds.request(admin.id, order.id, { amount: 600, reason: 'a' }, META);
    const error = await failure(w.refunds.request(admin.id, order.id, { amount: 401, reason: 'b' }, META));
    expect([error.code, error.data]).toEqual([ErrorCode.REFUND_EXCEEDS_REFUNDABLE, { refundable: 400 }]);
    expect(refundsOf()).toHaveLength(1);
    expect(w.pay.count('refund')).toBe(1);
  });

  it('a full refund that closes returns the order to its status before, the amount free again', async () => {
    const { w, admin, order, stored, refundsOf } = await paidOrder('completed');
    await w.refunds.request(admin.id, order.id, { reason: 'all' }, META);
    expect(stored()).toMatchObject({ status: 'refunding', statusBeforeRefunding: 'completed' });
    const refund = refundsOf()[0];
    await w.refundNotifications.handleRefund(
      refundNotification(w.pay.settleRefund(refund.outRefundNo, 'CLOSED')),
    );
    expect(stored()).toMatchObject({ status: 'completed', refundedAmount: 0, statusBeforeRefunding: null });
    expect(refundsOf()[0].status).toBe('closed');
    expect(refundsOf()[0].completedAt).toBeInstanceOf(Date);
    // All of it is refundable again.
    await w.refunds.request(admin.id, order.id, { amount: 1000, reason: 'again' }, META);
    expect(stored().status).toBe('refunding');
    expect(w.events(order.id).slice(-3)).toEqual(['refund_requested', 'refund_failed', 'refund_requested']);
  });

  it('refused by WeChat Pay: the refund is failed (refund_failed), the amount free, 502 / 50201', async () => {
    const { w, admin, order, stored, refundsOf } = await paidOrder();
    w.pay.failNext('refund', refused('NOT_ENOUGH', 403));
    const error = await failure(w.refunds.request(admin.id, order.id, { reason: 'all' }, META));
    expect([error.code, error.data]).toEqual([
      ErrorCode.WECHAT_PAY_ERROR,
      { wechatPayCode: 'NOT_ENOUGH', httpStatus: 403 },
    ]);
    expect(refundsOf()[0]).toMatchObject({ status: 'failed', nextQueryAt: null });
    // It was the whole order: `refunding` and back, as nothing is processing any more.
    expect(stored()).toMatchObject({ status: 'paid', refundedAmount: 0, statusBeforeRefunding: null });
    expect(w.events(order.id).slice(-2)).toEqual(['refund_requested', 'refund_failed']);
    await w.refunds.request(admin.id, order.id, { amount: 1000, reason: 'again' }, META);
    expect(refundsOf()[1].status).toBe('processing');
  });

  it.each([
    ['unverified', new AppError(ErrorCode.WECHAT_PAY_UNVERIFIED)],
    ['no answer', new AppError(ErrorCode.WECHAT_TIMEOUT)],
  ])('%s: the refund stays processing (the query settles it later)', async (_label, thrown) => {
    const { w, admin, order, stored, refundsOf } = await paidOrder();
    w.pay.failNext('refund', thrown);
    expect((await failure(w.refunds.request(admin.id, order.id, { reason: 'x' }, META))).code).toBe(
      thrown.code,
    );
    expect(refundsOf()[0].status).toBe('processing');
    expect(stored().status).toBe('refunding');
  });

  it('SUCCESS in the create answer ends it at once; completedAt is WeChat Pay’s success_time', async () => {
    const { w, admin, order, refundsOf } = await paidOrder();
    w.pay.refundStatus = 'SUCCESS';
    const after = await w.refunds.request(admin.id, order.id, { amount: 100, reason: 'x' }, META);
    expect(after).toMatchObject({ status: 'paid', refundedAmount: 100 });
    expect(refundsOf()[0].status).toBe('succeeded');
    expect(refundsOf()[0].completedAt?.toISOString()).toBe('2026-12-01T07:31:00.000Z');
    expect(refundsOf()[0].refundId).toMatch(/^50/);
  });

  it('a notification arriving inside the create call (the sandbox) and the answer after it end it once', async () => {
    const { w, admin, order, stored } = await paidOrder();
    w.pay.refundStatus = 'SUCCESS';
    w.pay.beforeRefundAnswer = async (outcome) => {
      expect(await w.refundNotifications.handleRefund(refundNotification(outcome))).toBe('applied');
    };
    await w.refunds.request(admin.id, order.id, { reason: 'all' }, META);
    expect(stored()).toMatchObject({ status: 'refunded', refundedAmount: 1000 });
    expect(w.events(order.id).filter((e) => e === 'refund_succeeded')).toHaveLength(1);
  });

  it('with two refunds processing, the first to end keeps `refunding`; the last one settles it', async () => {
    const { w, admin, order, stored, refundsOf } = await paidOrder();
    await w.refunds.request(admin.id, order.id, { amount: 400, reason: 'a' }, META);
    await w.refunds.request(admin.id, order.id, { reason: 'b' }, META);
    expect(stored().status).toBe('refunding');
    const [a, b] = refundsOf();
    await w.refundNotifications.handleRefund(
      refundNotification(w.pay.settleRefund(b.outRefundNo, 'SUCCESS')),
    );
    expect(stored()).toMatchObject({ status: 'refunding', refundedAmount: 600 });
    await w.refundNotifications.handleRefund(
      refundNotification(w.pay.settleRefund(a.outRefundNo, 'ABNORMAL')),
    );
    expect(stored()).toMatchObject({ status: 'paid', refundedAmount: 600 });
    expect(refundsOf().map((r) => r.status)).toEqual(['abnormal', 'succeeded']);
    // 400 is refundable again.
    expect(refundableOf(stored(), refundsOf())).toBe(400);
  });

  describe('refund notifications', () => {
    it('a repeat is a duplicate: nothing changes, no second event', async () => {
      const { w, admin, order, stored, refundsOf } = await paidOrder();
      await w.refunds.request(admin.id, order.id, { amount: 200, reason: 'x' }, META);
      const outcome = w.pay.settleRefund(refundsOf()[0].outRefundNo, 'SUCCESS');
      expect(await w.refundNotifications.handleRefund(refundNotification(outcome))).toBe('applied');
      expect(await w.refundNotifications.handleRefund(refundNotification(outcome))).toBe('duplicate');
      expect(stored().refundedAmount).toBe(200);
      expect(w.events(order.id).filter((e) => e === 'refund_succeeded')).toHaveLength(1);
    });

    it.each([
      ['another refund amount', { refund: 199 }, undefined],
      ['another total', { total: 999 }, undefined],
      ['another mchid', { mchid: '1900000000' }, undefined],
      ['another order', { outTradeNo: '1'.repeat(32) }, undefined],
      ['an event that is not its status', {}, 'REFUND.CLOSED'],
    ])('%s: rejected (notify_rejected on the order), nothing changes', async (_label, change, eventType) => {
      const { w, admin, order, stored, refundsOf } = await paidOrder();
      await w.refunds.request(admin.id, order.id, { amount: 200, reason: 'x' }, META);
      const outcome = { ...w.pay.settleRefund(refundsOf()[0].outRefundNo, 'SUCCESS'), ...change };
      expect(await w.refundNotifications.handleRefund(refundNotification(outcome, eventType))).toBe(
        'rejected',
      );
      expect(refundsOf()[0].status).toBe('processing');
      expect(stored().refundedAmount).toBe(0);
      expect(w.events(order.id).at(-1)).toBe('notify_rejected');
    });

    it.each([
      ['an unknown out_refund_no', 'nope', undefined],
      ['an unexpected event', undefined, 'TRANSACTION.SUCCESS'],
    ])('%s: rejected without an order', async (_label, outRefundNo, eventType) => {
      const { w, admin, order, refundsOf } = await paidOrder();
      await w.refunds.request(admin.id, order.id, { amount: 200, reason: 'x' }, META);
      const outcome = w.pay.settleRefund(refundsOf()[0].outRefundNo, 'SUCCESS');
      const notification = refundNotification(
        { ...outcome, outRefundNo: outRefundNo ?? outcome.outRefundNo },
        eventType,
      );
      expect(await w.refundNotifications.handleRefund(notification)).toBe('rejected');
      const last = w.core.repos.audit.rows.at(-1)!;
      expect([last.event, last.orderId]).toEqual(['notify_rejected', null]);
      expect(refundsOf()[0].status).toBe('processing');
    });

    it('SUCCESS for a refund that already failed: rejected, it stays failed', async () => {
      const { w, admin, order, refundsOf } = await paidOrder();
      w.pay.failNext('refund', refused('SYSTEM_ERROR', 500));
      await failure(w.refunds.request(admin.id, order.id, { amount: 200, reason: 'x' }, META));
      const refund = refundsOf()[0];
      const outcome = {
        mchid: FAKE_MCHID,
        outTradeNo: order.outTradeNo,
        outRefundNo: refund.outRefundNo,
        status: 'SUCCESS',
        refund: 200,
        total: 1000,
      };
      expect(await w.refundNotifications.handleRefund(refundNotification(outcome))).toBe('rejected');
      expect(refundsOf()[0].status).toBe('failed');
    });

    it('one that does not verify: 401 refused, notify_rejected without an order, counted invalid', async () => {
      const { w } = await paidOrder();
      const raw = { headers: { 'x-refuse': '1' }, body: Buffer.from('{}') };
      await expect(w.refundNotifications.handleRefund(raw)).rejects.toEqual(
        expect.objectContaining({ name: 'NotificationRefused', status: 401 }),
      );
      const last = w.core.repos.audit.rows.at(-1)!;
      expect([last.event, last.orderId]).toEqual(['notify_rejected', null]);
      const counted = (await w.metrics.notifications.get()).values.find(
        (v) => v.labels.kind === 'refund' && v.labels.result === 'invalid',
      );
      expect(counted?.value).toBe(1);
    });
  });

  describe('the refund poller', () => {
    it('queries a refund 60 s after it was requested, then again until it ends', async () => {
      const { w, admin, order, stored, refundsOf } = await paidOrder();
      await w.refunds.request(admin.id, order.id, { amount: 300, reason: 'x' }, META);
      const created = refundsOf()[0].createdAt.getTime();
      await w.refundQueries.tick(new Date(created + 59_000));
      expect(w.pay.count('refund_query')).toBe(0);
      await w.refundQueries.tick(new Date(created + 60_000));
      expect(w.pay.count('refund_query')).toBe(1);
      expect(refundsOf()[0].status).toBe('processing');
      // Claimed and moved on: not again before retryAfterMs, then again.
      await w.refundQueries.tick(new Date(created + 61_000));
      expect(w.pay.count('refund_query')).toBe(1);
      w.pay.settleRefund(refundsOf()[0].outRefundNo, 'SUCCESS');
      await w.refundQueries.tick(new Date(created + 90_000));
      expect(w.pay.count('refund_query')).toBe(2);
      expect(refundsOf()[0]).toMatchObject({ status: 'succeeded', nextQueryAt: null });
      expect(stored().refundedAmount).toBe(300);
      await w.refundQueries.tick(new Date(created + 200_000));
      expect(w.pay.count('refund_query')).toBe(2);
    });

    it('a refund WeChat Pay never received (query 404) is sent again with the same out_refund_no', async () => {
      const { w, admin, order, refundsOf } = await paidOrder();
      w.pay.failNext('refund', new AppError(ErrorCode.WECHAT_TIMEOUT));
      await failure(w.refunds.request(admin.id, order.id, { amount: 300, reason: 'x' }, META));
      const refund = refundsOf()[0];
      w.pay.refundStatus = 'SUCCESS';
      await w.refundQueries.tick(new Date(refund.createdAt.getTime() + 60_000));
      // The first never reached it (no answer); the second is the same refund.
      expect(w.pay.count('refund')).toBe(2);
      expect(w.pay.refundRequests.map((r) => r.outRefundNo)).toEqual([refund.outRefundNo]);
      expect(refundsOf()[0].status).toBe('succeeded');
    });

    it('a failing query leaves it processing and the pass goes on', async () => {
      const { w, admin, order, refundsOf } = await paidOrder();
      await w.refunds.request(admin.id, order.id, { amount: 300, reason: 'x' }, META);
      w.pay.failNext('refund_query', new AppError(ErrorCode.WECHAT_TIMEOUT));
      await w.refundQueries.tick(new Date(refundsOf()[0].createdAt.getTime() + 60_000));
      expect(refundsOf()[0].status).toBe('processing');
    });
  });
});
