/**
 * The official account's callback with two copies of the built service sharing Redis: a
 * (timestamp, nonce) pair used on one instance is a replay on the other, however the copies are
 * spread and however many arrive at once; and WeChat's retries of one message, spread over both,
 * are handled and answered once.
 */
import type { Response } from 'supertest';
import { ADMIN_OPENIDS, expectOk } from '../support/app-harness.js';
import { OFFICIAL_APP_ID, OFFICIAL_APP_SECRET } from '../support/fake-wechat-http-api.js';
import { OaCallbackBuilder, type CallbackRequest } from '../support/oa-callback-builder.js';
import { Cluster, type Instance } from '../support/instances.js';

/** For every test and hook (jest applies no project-level testTimeout to them). */
const TEST_TIMEOUT_MS = 60_000;
const TOKEN = 'clusterCallbackToken';
const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';

function send(instance: Instance, req: CallbackRequest): Promise<Response> {
  const http = instance.http();
  const pending =
    req.method === 'GET'
      ? http.get(req.path)
      : http
          .post(req.path)
          .set('Content-Type', req.contentType)
          .send(req.body ?? '');
  return pending as unknown as Promise<Response>;
}

describe('the official account callback over two instances', () => {
  let cluster: Cluster;
  let a: Instance;
  let b: Instance;
  const oa = new OaCallbackBuilder({ token: TOKEN, encodingAesKey: AES_KEY, appId: OFFICIAL_APP_ID });

  beforeAll(async () => {
    cluster = await Cluster.create({
      redisDb: 6,
      env: {
        WECHAT_OA_APP_ID: OFFICIAL_APP_ID,
        WECHAT_OA_APP_SECRET: OFFICIAL_APP_SECRET,
        WECHAT_OA_TOKEN: TOKEN,
        WECHAT_OA_ENCODING_AES_KEY: AES_KEY,
        PUBLIC_BASE_URL: 'https://api.example.com',
      },
    });
    [a, b] = await cluster.start(2);
  }, TEST_TIMEOUT_MS);
  afterAll(async () => {
    await cluster?.close();
  }, TEST_TIMEOUT_MS);

  it(
    'a nonce used on one instance is refused on the other, GET and POST, each way',
    async () => {
      for (const [first, second] of [
        [a, b],
        [b, a],
      ]) {
        const check = oa.verify('cluster-echo');
        expect((await send(first, check)).text).toBe('cluster-echo');
        const replayed = await send(second, check);
        expect({ status: replayed.status, text: replayed.text }).toEqual({
          status: 401,
          text: 'replayed nonce',
        });

        const post = oa.safe(oa.text({ from: 'o_cluster_follower', content: 'hello' }));
        expect((await send(first, post)).text).toBe('success');
        const again = await send(second, post);
        expect({ status: again.status, text: again.text }).toEqual({ status: 401, text: 'replayed nonce' });
      }
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'one signed request sent 20 times at once over both instances passes once',
    async () => {
      const post = oa.plaintext(oa.text({ from: 'o_cluster_follower', content: 'hello' }));
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => send(i % 2 ? a : b, post)));
      const texts = answers.map((res) => `${res.status} ${res.text}`).sort();
      expect(texts.filter((t) => t === '200 success')).toHaveLength(1);
      expect(texts.filter((t) => t === '401 replayed nonce')).toHaveLength(19);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "WeChat's retries of one message, spread over both instances at once, are replied to once",
    async () => {
      const admin = await cluster.login(a, ADMIN_OPENIDS[0]);
      expectOk(
        await a
          .http()
          .post('/api/v1/admin/official/auto-replies')
          .set('Authorization', admin.bearer)
          .send({ match: 'exact', keyword: 'cluster-retry', reply: 'once, wherever it lands' }),
        201,
      );
      const xml = oa.text({ from: 'o_cluster_follower', content: 'cluster-retry' });
      // Each copy with its own timestamp and nonce, as WeChat's retries come.
      const requests = Array.from({ length: 10 }, () => oa.safe(xml));
      const answers = await Promise.all(requests.map((req, i) => send(i % 2 ? a : b, req)));
      expect(answers.map((res) => res.status)).toEqual(Array(10).fill(200));
      const replies = answers.map((res, i) => oa.readReply(res.text, requests[i]));
      expect(replies.filter((reply) => reply.kind === 'encrypted')).toEqual([
        expect.objectContaining({ fields: expect.objectContaining({ Content: 'once, wherever it lands' }) }),
      ]);
      expect(replies.filter((reply) => reply.kind === 'success')).toHaveLength(9);
      const duplicates = await Promise.all(
        [a, b].map((i) => i.metric('wechat_oa_callbacks_total', { type: 'text', outcome: 'duplicate' })),
      );
      expect(duplicates[0] + duplicates[1]).toBeGreaterThanOrEqual(9);
    },
    TEST_TIMEOUT_MS,
  );
});
