import { AppError } from '../common/errors/app-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import { wechatError } from '../wechat/wechat-errors.js';
import { afterFailure, backoffMs, DEFAULT_DELIVERY_POLICY } from './delivery-policy.js';

const policy = DEFAULT_DELIVERY_POLICY;

describe('the subscribe-message delivery policy', () => {
  it('waits 1, 2, 4, 8 s after the first four failed attempts, from a base tests can shorten', () => {
    expect([1, 2, 3, 4].map((attempt) => backoffMs(attempt, policy))).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect([1, 2, 3, 4].map((attempt) => backoffMs(attempt, { backoffBaseMs: 10 }))).toEqual([
      10, 20, 40, 80,
    ]);
    expect(policy.maxAttempts).toBe(5);
    expect(policy.sweepEveryMs).toBe(30_000);
  });

  it.each([
    ['busy (-1)', wechatError('subscribe_send', -1), -1],
    ['the minute quota (45011)', wechatError('subscribe_send', 45011), 45011],
    ['a timeout', new AppError(ErrorCode.WECHAT_TIMEOUT), null],
    ['HTTP 5xx', new AppError(ErrorCode.WECHAT_ERROR, 'WeChat unreachable (http_5xx)'), null],
    ['a network error', new AppError(ErrorCode.WECHAT_ERROR, 'WeChat unreachable (network)'), null],
    ['the open breaker', new AppError(ErrorCode.DEPENDENCY_UNAVAILABLE, 'calls paused'), null],
    ['an unexpected error', new Error('socket hang up'), null],
  ])('tries %s again until the fifth attempt, keeping the errcode WeChat gave', (_what, error, errcode) => {
    for (const attempt of [1, 2, 3, 4]) {
      expect(afterFailure(error, attempt, policy)).toEqual({
        kind: 'retry',
        wechatErrcode: errcode,
        delayMs: backoffMs(attempt, policy),
      });
    }
    // The last attempt's failure ends it, the unit given back.
    expect(afterFailure(error, 5, policy)).toEqual({
      kind: 'failed',
      wechatErrcode: errcode,
      quota: 'returned',
    });
  });

  it('43101 fails at once and clears the quota, at any attempt', () => {
    for (const attempt of [1, 3, 5]) {
      expect(afterFailure(wechatError('subscribe_send', 43101), attempt, policy)).toEqual({
        kind: 'failed',
        wechatErrcode: 43101,
        quota: 'cleared',
      });
    }
  });

  it.each([40003, 40037, 47003, 45009, 40029, 40226, 41030])(
    'errcode %i fails at once with the unit given back',
    (errcode) => {
      expect(afterFailure(wechatError('subscribe_send', errcode), 1, policy)).toEqual({
        kind: 'failed',
        wechatErrcode: errcode,
        quota: 'returned',
      });
    },
  );
});
