import type { HttpAdapterHost } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../common/errors/app-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import { NotificationRefused } from '../payments/wechat-pay-client.port.js';
import { FakePayClient } from '../../test/support/fake-pay-client.js';
import { orderWorld } from '../../test/support/in-memory-orders.js';
import { PayNotificationEndpoint } from './pay-notification-endpoint.js';
import type { PaymentNotificationsService } from './payment-notifications.service.js';

describe('PayNotificationEndpoint: what the notification routes answer', () => {
  function endpoint(handle: (...args: unknown[]) => Promise<unknown>, mode: 'live' | 'off' = 'live') {
    const w = orderWorld();
    const pay = Object.assign(new FakePayClient(), { mode });
    const payments = { handleTransaction: handle } as unknown as PaymentNotificationsService;
    const it = new PayNotificationEndpoint(
      payments,
      w.refundNotifications,
      w.audit,
      w.metrics,
      pay,
      {} as HttpAdapterHost,
    );
    return { it, w };
  }
  const request = (body: unknown) => ({ headers: {}, body }) as unknown as FastifyRequest;
  const counted = async (w: ReturnType<typeof orderWorld>, result: string) =>
    (await w.metrics.notifications.get()).values.find((v) => v.labels.result === result)?.value ?? 0;

  it('applied, duplicate or rejected: 204', async () => {
    for (const outcome of ['applied', 'duplicate', 'rejected']) {
      const { it } = endpoint(async () => outcome);
      expect(await it.receive('transaction', request(Buffer.from('{}')))).toEqual({ status: 204 });
    }
  });

  it('the verifier refusing: its 401 or 400 with its message', async () => {
    const { it } = endpoint(async () => {
      throw new NotificationRefused(401, 'the signature does not verify');
    });
    expect(await it.receive('transaction', request(Buffer.from('{}')))).toEqual({
      status: 401,
      message: 'the signature does not verify',
    });
  });

  it.each([
    ['the database down (50300)', new AppError(ErrorCode.DEPENDENCY_UNAVAILABLE)],
    ['anything unexpected', new Error('boom')],
  ])('%s: 503, so WeChat Pay sends it again', async (_label, error) => {
    const { it } = endpoint(async () => {
      throw error;
    });
    expect(await it.receive('transaction', request(Buffer.from('{}')))).toEqual({
      status: 503,
      message: 'the notification cannot be processed now',
    });
  });

  it('WeChat Pay off: 503 without looking at the notification, counted error', async () => {
    let asked = false;
    const { it, w } = endpoint(async () => {
      asked = true;
      return 'applied';
    }, 'off');
    expect((await it.receive('refund', request(Buffer.from('{}')))).status).toBe(503);
    expect(asked).toBe(false);
    expect(await counted(w, 'error')).toBe(1);
  });

  it('no body at all is handed on as empty bytes (its signature cannot verify)', async () => {
    let seen: Buffer | undefined;
    const { it } = endpoint(async (...args: unknown[]) => {
      seen = (args[0] as { body: Buffer }).body;
      return 'applied';
    });
    await it.receive('transaction', request(undefined));
    expect(seen).toEqual(Buffer.alloc(0));
  });
});
