import { ErrorCode } from 'wechat-miniprogram-backend-sdk';

// A template id of the mini-program's subscribe messages (mp.weixin.qq.com → 订阅消息); the
// sandbox accepts any.
const TEMPLATE_ID = 'order_shipped';

const { client } = getApp();

/** What the page shows for an ApiError: the service's code decides, the message is for people. */
function describe(error) {
  if (error.code === ErrorCode.PAY_CANCELLED) return 'Payment cancelled';
  if (error.code === ErrorCode.NOT_ENOUGH_STOCK) return 'Sold out';
  if (error.code === ErrorCode.NETWORK) return 'No connection to the service';
  return `${error.message} (code ${error.code}, request ${error.requestId || '-'})`;
}

Page({
  data: { status: 'Signing in…', me: null, products: [], error: '' },

  async onLoad() {
    try {
      await client.login();
      const [me, page] = await Promise.all([
        client.request('GET', '/users/me'),
        client.request('GET', '/products?pageSize=10'),
      ]);
      this.setData({ status: 'Signed in', me, products: page.items });
    } catch (error) {
      this.setData({ status: 'Not signed in', error: describe(error) });
    }
  },

  async onPhone(event) {
    try {
      this.setData({ me: await client.bindPhone(event), error: '' });
    } catch (error) {
      this.setData({ error: describe(error) });
    }
  },

  async onBuy(event) {
    try {
      const order = await client.request(
        'POST',
        '/orders',
        { items: [{ productId: event.currentTarget.dataset.id, quantity: 1 }] },
        // One key per purchase: sending this request again with it answers the same order.
        { headers: { 'Idempotency-Key': `buy-${event.currentTarget.dataset.id}-${Date.now()}` } },
      );
      const paid = await client.pay(order.id);
      this.setData({ status: `Order ${paid.id} is ${paid.status}`, error: '' });
    } catch (error) {
      this.setData({ error: describe(error) });
    }
  },

  async onSubscribe() {
    try {
      const quotas = await client.subscribe([TEMPLATE_ID]);
      this.setData({ status: `Notifications left: ${quotas[TEMPLATE_ID] || 0}`, error: '' });
    } catch (error) {
      this.setData({ error: describe(error) });
    }
  },
});
