import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { wechatConfig, type WechatSlice } from '../../config/config.slices.js';
import type {
  SubscribeMessage,
  WechatClient,
  WechatPhoneInfo,
  WechatSession,
} from '../wechat-client.port.js';
import { wechatError } from '../wechat-errors.js';
import { askedErrcode, sandboxOfficialOpenid, sandboxUnionid } from './sandbox-identities.js';

const digest = (text: string) => createHash('sha256').update(text).digest();

/** The openid the sandbox gives the wx.login code `code` (ADMIN_OPENIDS may name it `sandbox:<code>`). */
export function sandboxOpenid(code: string): string {
  return `sbx_${digest(`openid:${code}`).toString('hex').slice(0, 28)}`;
}

/**
 * An in-process WeChat for local development (WECHAT_MODE=sandbox, refused in production), so a
 * front-end developer can log in as several users with made-up codes:
 * - any wx.login code is a user: the same code always gives the same openid and session key, and
 *   the unionid the sandbox official account gives the OAuth code of the same text
 *   (sandbox-identities.ts), so that a mini-program user and a web sign-in can be linked;
 * - a code `errcode:<N>` (e.g. `errcode:40029`, `errcode:40226`, `errcode:45011`) answers as WeChat
 *   would with that errcode, on login and on the phone button alike;
 * - a phone code gives a Chinese mobile number derived from the code (`138xxxxxxxx`).
 */
@Injectable()
export class SandboxWechatClient implements WechatClient {
  private readonly appId: string;

  constructor(@Inject(wechatConfig.KEY) { appId }: Pick<WechatSlice, 'appId'>) {
    this.appId = appId;
  }

  code2Session(code: string): Promise<WechatSession> {
    this.failIfAsked('jscode2session', code);
    const openid = sandboxOpenid(code);
    return Promise.resolve({
      openid,
      sessionKey: digest(`session:${openid}`).subarray(0, 16).toString('base64'),
      unionid: sandboxUnionid(sandboxOfficialOpenid(code)),
    });
  }

  getPhoneNumber(code: string): Promise<WechatPhoneInfo> {
    this.failIfAsked('getuserphonenumber', code);
    const digits = (digest(`phone:${code}`).readUInt32BE(0) % 100_000_000).toString().padStart(8, '0');
    const pure = `138${digits}`;
    return Promise.resolve({
      phoneNumber: pure,
      purePhoneNumber: pure,
      countryCode: '86',
      watermark: { appid: this.appId, timestamp: Math.floor(Date.now() / 1000) },
    });
  }

  sendSubscribeMessage(message: SubscribeMessage): Promise<void> {
    this.failIfAsked('subscribe_send', message.templateId);
    return Promise.resolve();
  }

  checkSessionKey(): Promise<boolean> {
    return Promise.resolve(true);
  }

  private failIfAsked(api: string, code: string): void {
    const errcode = askedErrcode(code);
    if (errcode !== null) throw wechatError(api, errcode);
  }
}
