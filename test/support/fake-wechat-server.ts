/**
 * The fake WeChat as a process of its own, for the benchmark and for trying the built service by
 * hand: `npx tsx test/support/fake-wechat-server.ts [port]` prints its URL, then serves until killed.
 * APP_ID / APP_SECRET come from WECHAT_APP_ID / WECHAT_APP_SECRET when set, the official account's
 * from WECHAT_OA_APP_ID / WECHAT_OA_APP_SECRET (else OFFICIAL_APP_ID / OFFICIAL_APP_SECRET).
 */
import { FakeWechat } from './fake-wechat-http-api.js';

const fake = await FakeWechat.start({
  appId: process.env.WECHAT_APP_ID,
  appSecret: process.env.WECHAT_APP_SECRET,
  officialAppId: process.env.WECHAT_OA_APP_ID,
  officialAppSecret: process.env.WECHAT_OA_APP_SECRET,
  port: process.argv[2] ? Number(process.argv[2]) : undefined,
  reusableCodes: process.env.FAKE_WECHAT_REUSABLE_CODES === 'true',
  keepLog: false,
});
process.stdout.write(`${fake.url}\n`);
const stop = () => void fake.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
