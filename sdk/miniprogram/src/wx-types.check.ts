/**
 * Compiled by the package's tsconfig only (never bundled): the `wx` that miniprogram-api-typings
 * describes must fit the part of it this SDK declares, and the getPhoneNumber button's event must
 * fit bindPhone(), so a change in WeChat's typings that breaks the SDK fails the build.
 */
import type { MiniProgramWx, PhoneNumberEvent } from './index.js';

export const realWx: MiniProgramWx = wx;
export const phoneEvent = (event: WechatMiniprogram.ButtonGetPhoneNumber): PhoneNumberEvent => event;
