import { generateKeyPairSync } from 'node:crypto';
import {
  buildNotification,
  signedHeaders,
  type BuiltNotification,
} from '../../test/support/fake-wechat-pay-wire.js';
import { AeadAes256Gcm } from './crypto/aead-aes-256-gcm.js';
import { WechatPaySignatureVerifier } from './crypto/signature-verifier.js';
import { SerialKeySource } from './crypto/verification-keys.js';
import {
  NotificationRefused,
  type NotificationKind,
  type RawNotification,
} from './wechat-pay-client.port.js';
import { WechatPayNotificationVerifier } from './wechat-pay-notifications.js';

const APIV3_KEY = 'Q7m2Vx9LpR4tZc8NwB1sKd6HfJ3gYa0E';
const PUBLIC_KEY_ID = 'PUB_KEY_ID_0114232134912410000000000000';
const platform = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signing = { serial: PUBLIC_KEY_ID, privateKey: platform.privateKey };

let now = Date.now();
const verifier = new WechatPayNotificationVerifier(
  new WechatPaySignatureVerifier(
    new SerialKeySource({ id: PUBLIC_KEY_ID, key: platform.publicKey }, undefined),
    () => now,
  ),
  new AeadAes256Gcm(Buffer.from(APIV3_KEY)),
);

const paid = {
  mchid: '1900000109',
  appid: 'wx1234567890abcdef',
  out_trade_no: '20261201153000123000000000000001',
  transaction_id: '4200000000202612011530001234',
  trade_type: 'JSAPI',
  trade_state: 'SUCCESS',
  trade_state_desc: '支付成功',
  bank_type: 'OTHERS',
  attach: '',
  success_time: '2026-12-01T15:31:02+08:00',
  payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
  amount: { total: 2590, payer_total: 2590, currency: 'CNY', payer_currency: 'CNY' },
};

const transaction = (options: Partial<Parameters<typeof buildNotification>[0]> = {}) =>
  buildNotification({
    key: signing,
    apiV3Key: APIV3_KEY,
    eventType: 'TRANSACTION.SUCCESS',
    resource: paid,
    ...options,
  });

async function refusal(kind: NotificationKind, notification: RawNotification): Promise<NotificationRefused> {
  try {
    await verifier.verify(kind, notification);
  } catch (error) {
    if (error instanceof NotificationRefused) return error;
    throw error;
  }
  throw new Error('expected a NotificationRefused');
}

/** The same headers over other bytes. */
const withBody = (notification: BuiltNotification, body: Buffer | string) => ({
  ...notification,
  body: Buffer.from(body),
});

beforeEach(() => {
  now = Date.now();
});

describe('WechatPayNotificationVerifier', () => {
  it('verifies a payment notification over its raw bytes and returns its decrypted transaction', async () => {
    const notification = transaction({ id: 'EV-2018022511223320873' });
    await expect(verifier.verify('transaction', notification)).resolves.toEqual({
      kind: 'transaction',
      eventType: 'TRANSACTION.SUCCESS',
      id: 'EV-2018022511223320873',
      transaction: {
        mchid: '1900000109',
        appid: 'wx1234567890abcdef',
        outTradeNo: paid.out_trade_no,
        transactionId: paid.transaction_id,
        tradeState: 'SUCCESS',
        successTime: '2026-12-01T15:31:02+08:00',
        total: 2590,
        currency: 'CNY',
      },
    });
  });

  it('reads a refund notification (refund_status, no appid)', async () => {
    const notification = buildNotification({
      key: signing,
      apiV3Key: APIV3_KEY,
      eventType: 'REFUND.ABNORMAL',
      resource: {
        mchid: '1900000109',
        out_trade_no: paid.out_trade_no,
        transaction_id: paid.transaction_id,
        out_refund_no: '20261202100000000000000000000001',
        refund_id: '50000000382019052709732678859',
        refund_status: 'ABNORMAL',
        user_received_account: '招商银行信用卡0403',
        amount: { total: 2590, refund: 1000, payer_total: 2590, payer_refund: 1000 },
      },
    });
    const verified = await verifier.verify('refund', notification);
    expect(verified).toMatchObject({
      kind: 'refund',
      eventType: 'REFUND.ABNORMAL',
      refund: {
        outRefundNo: '20261202100000000000000000000001',
        status: 'ABNORMAL',
        refund: 1000,
        total: 2590,
      },
    });
  });

  it('refuses a one-byte change to the body (401)', async () => {
    const notification = transaction();
    const body = Buffer.from(notification.body);
    body[body.indexOf('"id"') + 8] ^= 1;
    expect((await refusal('transaction', withBody(notification, body))).status).toBe(401);
  });

  it('refuses the same JSON serialised again (401): only the bytes as sent verify', async () => {
    // A sender writing the summary as \u escapes, as Java serialisers do: parsing and writing it
    // back (what a framework's body parser would hand over) changes the bytes.
    const notification = transaction();
    const escaped = notification.body.toString('utf8').replace('支付成功', '\\u652f\\u4ed8\\u6210\\u529f');
    const asSent = { headers: signedHeaders(signing, escaped), body: Buffer.from(escaped) };
    await expect(verifier.verify('transaction', asSent)).resolves.toMatchObject({ kind: 'transaction' });
    const reserialised = JSON.stringify(JSON.parse(escaped));
    expect(reserialised).not.toBe(escaped);
    expect((await refusal('transaction', withBody(asSent, reserialised))).status).toBe(401);
    const pretty = JSON.stringify(JSON.parse(notification.body.toString('utf8')), null, 2);
    expect((await refusal('transaction', withBody(notification, pretty))).status).toBe(401);
  });

  it('refuses a changed timestamp, a stale or future one, and an unknown serial (401)', async () => {
    const notification = transaction();
    const shifted = String(Number(notification.headers['wechatpay-timestamp']) + 1);
    expect(
      (
        await refusal('transaction', {
          ...notification,
          headers: { ...notification.headers, 'wechatpay-timestamp': shifted },
        })
      ).status,
    ).toBe(401);
    const stale = transaction({ timestamp: Math.floor(now / 1000) - 301 });
    expect((await refusal('transaction', stale)).message).toMatch(/300 s/);
    const future = transaction({ timestamp: Math.floor(now / 1000) + 301 });
    expect((await refusal('transaction', future)).status).toBe(401);
    const otherSerial = buildNotification({
      key: { serial: 'PUB_KEY_ID_0114232134912410000000000001', privateKey: platform.privateKey },
      apiV3Key: APIV3_KEY,
      eventType: 'TRANSACTION.SUCCESS',
      resource: paid,
    });
    const refused = await refusal('transaction', otherSerial);
    expect(refused.status).toBe(401);
    expect(refused.message).toMatch(/Wechatpay-Serial/);
  });

  it('refuses a notification signed with another key (401)', async () => {
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forged = buildNotification({
      key: { serial: PUBLIC_KEY_ID, privateKey: stranger.privateKey },
      apiV3Key: APIV3_KEY,
      eventType: 'TRANSACTION.SUCCESS',
      resource: paid,
    });
    expect((await refusal('transaction', forged)).status).toBe(401);
  });

  it('refuses a missing header (401)', async () => {
    const notification = transaction();
    for (const name of [
      'wechatpay-timestamp',
      'wechatpay-nonce',
      'wechatpay-signature',
      'wechatpay-serial',
    ]) {
      const headers: Record<string, string | undefined> = { ...notification.headers, [name]: undefined };
      expect((await refusal('transaction', { headers, body: notification.body })).status).toBe(401);
    }
  });

  it('refuses a resource encrypted with another APIv3 key (400)', async () => {
    const refused = await refusal('transaction', transaction({ apiV3Key: 'Z'.repeat(32) }));
    expect(refused.status).toBe(400);
    expect(refused.message).toMatch(/decrypt/);
  });

  it('refuses a signed body that is not JSON, or has no resource (400)', async () => {
    for (const body of ['not json', '[1,2]', '{"id":"EV-1","event_type":"TRANSACTION.SUCCESS"}']) {
      const refused = await refusal('transaction', {
        headers: signedHeaders(signing, body),
        body: Buffer.from(body),
      });
      expect(refused.status).toBe(400);
    }
  });

  it('hands over a verified resource lacking fields as it is, for the orders module to reject', async () => {
    const verified = await verifier.verify('transaction', transaction({ resource: { mchid: '1900000109' } }));
    expect(verified).toMatchObject({ transaction: { outTradeNo: '', tradeState: '', total: Number.NaN } });
  });
});
