/**
 * What the rest of the service needs from WeChat. Two adapters implement it: `live/` (HTTP to
 * WECHAT_API_BASE_URL) and `sandbox/` (in-process, deterministic). Failures are thrown as AppError
 * with the contract's codes (see wechat-errors.ts), so callers never see WeChat errcodes.
 */
export const WECHAT_CLIENT = Symbol('WECHAT_CLIENT');

export interface WechatSession {
  openid: string;
  /** base64 of 16 bytes; secret, never logged or returned. */
  sessionKey: string;
  unionid?: string;
}

export interface WechatPhoneInfo {
  /** With country code for numbers outside China. */
  phoneNumber: string;
  purePhoneNumber: string;
  countryCode: string;
  watermark: { appid: string; timestamp: number };
}

export interface SubscribeMessage {
  touser: string;
  templateId: string;
  page?: string;
  miniprogramState?: 'developer' | 'trial' | 'formal';
  lang?: string;
  data: Record<string, { value: string }>;
}

export interface WechatClient {
  /** GET /sns/jscode2session */
  code2Session(code: string): Promise<WechatSession>;
  /** POST /wxa/business/getuserphonenumber (checks watermark.appid: 40002 otherwise). */
  getPhoneNumber(code: string): Promise<WechatPhoneInfo>;
  /**
   * POST /cgi-bin/message/subscribe/send: one call (an errcode -1 is not retried inside it; token
   * errors are, once). A failure's errcode, when WeChat gave one, is `wechatErrcodeOf(error)`.
   */
  sendSubscribeMessage(message: SubscribeMessage): Promise<void>;
  /** GET /wxa/checksession: true when WeChat still holds this session key as current. */
  checkSessionKey(openid: string, sessionKey: string): Promise<boolean>;
}
