import { Logger } from '@nestjs/common';
import { failure } from '../../test/support/app-errors.js';
import { encryptWechatData, randomSessionKey } from '../../test/support/wechat-crypto-helpers.js';
import { AppError } from '../common/errors/app-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import type { SessionKeysService } from '../session-keys/session-keys.service.js';
import type { UsersService } from '../users/users.service.js';
import { NodeWechatCrypto } from '../wechat/crypto/node-wechat-crypto.js';
import type { WechatClient } from '../wechat/wechat-client.port.js';
import { WechatDataService } from './wechat-data.service.js';

const APP_ID = 'wx1234567890abcdef';

// The decrypt rule: data that does not decrypt is told apart by checksession (40003 / 40104).

describe('WechatDataService', () => {
  const key = randomSessionKey();
  let stored: string | null;
  let openid: string | null;
  let checks: Array<[string, string]>;
  let checkAnswer: () => Promise<boolean>;

  const service = () =>
    new WechatDataService(
      new NodeWechatCrypto(),
      {
        checkSessionKey: (who: string, sessionKey: string) => {
          checks.push([who, sessionKey]);
          return checkAnswer();
        },
      } as unknown as WechatClient,
      { get: () => Promise.resolve(stored) } as unknown as SessionKeysService,
      { getVisible: () => Promise.resolve({ openid }) } as unknown as UsersService,
      { appId: APP_ID } as never,
    );
  const foreign = () => encryptWechatData({ a: 1 }, randomSessionKey(), { appId: APP_ID });
  const decrypt = (block: { encryptedData: string; iv: string }) =>
    service().decryptForUser('user-1', block.encryptedData, block.iv);

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(() => {
    stored = key;
    openid = 'o_mp_openid';
    checks = [];
    checkAnswer = () => Promise.resolve(true);
  });

  it('decrypts with the stored key without asking WeChat', async () => {
    expect(await decrypt(encryptWechatData({ a: 1 }, key, { appId: APP_ID }))).toEqual({ a: 1 });
    expect(checks).toEqual([]);
  });

  it('answers 40003 when checksession confirms the stored key, asking about that key and openid', async () => {
    expect((await failure(decrypt(foreign()))).code).toBe(ErrorCode.WECHAT_DATA_NOT_CURRENT);
    expect(checks).toEqual([['o_mp_openid', key]]);
  });

  it('answers 40104 when checksession calls the key stale, fails or cannot be asked', async () => {
    checkAnswer = () => Promise.resolve(false);
    expect((await failure(decrypt(foreign()))).code).toBe(ErrorCode.WECHAT_SESSION_KEY_STALE);
    checkAnswer = () => Promise.reject(new AppError(ErrorCode.WECHAT_TIMEOUT));
    expect((await failure(decrypt(foreign()))).code).toBe(ErrorCode.WECHAT_SESSION_KEY_STALE);
    checkAnswer = () => Promise.reject(new AppError(ErrorCode.DEPENDENCY_UNAVAILABLE));
    expect((await failure(decrypt(foreign()))).code).toBe(ErrorCode.WECHAT_SESSION_KEY_STALE);
    expect(checks).toHaveLength(3);
    openid = null;
    expect((await failure(decrypt(foreign()))).code).toBe(ErrorCode.WECHAT_SESSION_KEY_STALE);
    expect(checks).toHaveLength(3);
  });

  it('answers 40104 without a call when no session key is stored (a user who only signed in on the web)', async () => {
    stored = null;
    expect((await failure(decrypt(foreign()))).code).toBe(ErrorCode.WECHAT_SESSION_KEY_STALE);
    expect(checks).toEqual([]);
  });

  it('keeps 40002 for data of another app: it decrypted, so WeChat is not asked', async () => {
    const other = encryptWechatData({ a: 1 }, key, { appId: 'wxfedcba0987654321' });
    expect((await failure(decrypt(other))).code).toBe(ErrorCode.WECHAT_APPID_MISMATCH);
    expect(checks).toEqual([]);
  });
});
