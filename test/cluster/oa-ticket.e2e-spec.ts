/**
 * The official account's jsapi_ticket with two copies of the built service sharing Redis: however
 * many callers ask for a JS-SDK configuration at once, on either instance, WeChat is asked for the
 * ticket once (and for the official account's token once), and every signature is made with it.
 */
import { createHash } from 'node:crypto';
import { expectOk } from '../support/app-harness.js';
import { OFFICIAL_APP_ID, OFFICIAL_APP_SECRET } from '../support/fake-wechat-http-api.js';
import { Cluster, type Instance } from '../support/instances.js';

/** For every test and hook (jest applies no project-level testTimeout to them). */
const TEST_TIMEOUT_MS = 60_000;
const JSSDK = '/api/v1/wechat/official/jssdk-config';
const sha1 = (text: string) => createHash('sha1').update(text, 'utf8').digest('hex');

describe('the jsapi_ticket over two instances', () => {
  let cluster: Cluster;
  let a: Instance;
  let b: Instance;

  beforeAll(async () => {
    cluster = await Cluster.create({
      redisDb: 15,
      env: {
        WECHAT_OA_APP_ID: OFFICIAL_APP_ID,
        WECHAT_OA_APP_SECRET: OFFICIAL_APP_SECRET,
        WECHAT_OA_TOKEN: 'spamtest',
        PUBLIC_BASE_URL: 'https://api.example.com',
        OAUTH_REDIRECT_ALLOWLIST: 'https://h5.example.com',
        // Generous: 100 callers at once on each instance of a 2-core machine must not time out.
        WECHAT_TIMEOUT_MS: '5000',
      },
    });
    [a, b] = await cluster.start(2);
  }, TEST_TIMEOUT_MS);
  afterAll(async () => {
    await cluster?.close();
  }, TEST_TIMEOUT_MS);

  it(
    'is fetched once for 200 concurrent callers spread over both, and every signature uses it',
    async () => {
      cluster.fake.reset();
      // The fetch takes a second, so that callers on both instances find no ticket while it runs.
      cluster.fake.delayNext('getticket', 1000);
      const fetchesBefore = await Promise.all(
        [a, b].map((i) => i.metric('wechat_jsapi_ticket_fetches_total')),
      );

      const urls = Array.from({ length: 200 }, (_, i) => `https://h5.example.com/page/${i}?from=test`);
      const answers = await Promise.all(
        urls.map((url, i) => (i % 2 ? a : b).http().get(JSSDK).query({ url })),
      );
      const failures = answers.filter((res) => res.status !== 200).map((res) => res.body);
      expect({ failures: failures.slice(0, 3), count: failures.length }).toEqual({ failures: [], count: 0 });

      expect(cluster.fake.calls('getticket')).toBe(1);
      const ticket = cluster.fake.currentTicket!;
      answers.forEach((res, i) => {
        const data = expectOk(res);
        expect(data.signature).toBe(
          sha1(`jsapi_ticket=${ticket}&noncestr=${data.nonceStr}&timestamp=${data.timestamp}&url=${urls[i]}`),
        );
      });
      // One token fetch too, for the official account only, with its own credentials.
      expect(cluster.fake.requests('stable_token').map((r) => (r.body as { appid: string }).appid)).toEqual([
        OFFICIAL_APP_ID,
      ]);
      expect(cluster.fake.requests('getticket')[0].query.access_token).toBe(
        cluster.fake.currentOfficialToken,
      );
      // Exactly one of the two instances fetched it (each counts its own fetches).
      const fetches = await Promise.all([a, b].map((i) => i.metric('wechat_jsapi_ticket_fetches_total')));
      expect(fetches.map((n, i) => n - fetchesBefore[i]).sort()).toEqual([0, 1]);
      // Shared through Redis, apart from the access tokens.
      expect((await cluster.redisKeys('wxb:wechat:*')).sort()).toEqual([
        'wxb:wechat:oa:access_token',
        'wxb:wechat:oa:jsapi_ticket',
      ]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'is served from the shared cache afterwards, by both instances, with no call to WeChat',
    async () => {
      cluster.fake.reset();
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 ? a : b).http().get(JSSDK).query({ url: 'https://h5.example.com/' }),
        ),
      );
      for (const res of answers) expectOk(res);
      expect(cluster.fake.calls()).toBe(0);
    },
    TEST_TIMEOUT_MS,
  );
});
