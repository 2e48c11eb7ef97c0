/**
 * What the callback and its handlers read of the official account's configuration. The module maps
 * the configuration to it, so the callback does not depend on how the variables are laid out.
 */
export interface OfficialAccountSettings {
  /**
   * false without an official account (no WECHAT_OA_APP_ID outside the sandbox): every route of the
   * module answers 404 / 40400 (OfficialAccountRoute) and nothing below is used.
   */
  enabled: boolean;
  /** WECHAT_OA_APP_ID, or the sandbox's. The app id a safe-mode message must end with. */
  appId: string;
  /** WECHAT_OA_TOKEN (the sandbox's own when unset there): signs every callback. */
  token: string;
  /** WECHAT_OA_ENCODING_AES_KEY: compatible and safe mode; null for plaintext only. */
  encodingAesKey: string | null;
  /** WECHAT_OA_WELCOME_TEXT: the reply to `subscribe`; null answers `success`. */
  welcomeText: string | null;
}

export const OFFICIAL_ACCOUNT_SETTINGS = Symbol('OFFICIAL_ACCOUNT_SETTINGS');
