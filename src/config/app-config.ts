import type { OfficialAccountConfig } from './official-account-config.js';
import type { WechatPayConfig } from './wechat-pay-config.js';

export type { OfficialAccountConfig } from './official-account-config.js';
export type { WechatPayConfig, WechatPayMode } from './wechat-pay-config.js';

/** The validated, typed configuration every module reads (never `process.env` deep in the code). */
export type NodeEnv = 'production' | 'development' | 'test';

export interface DatabaseConfig {
  type: 'mysql' | 'mariadb' | 'better-sqlite3';
  /** mysql: the URL as given; better-sqlite3: a file path or `:memory:`. */
  url: string;
  sqlitePath?: string;
  migrationsRun: boolean;
  /** Only ever true in tests that build a throwaway schema. */
  synchronize: boolean;
}

export interface JwtConfig {
  secret: string;
  accessTtl: number;
  refreshTtl: number;
  issuer: string;
  audience: string;
}

export interface WechatConfig {
  mode: 'live' | 'sandbox';
  appId: string;
  appSecret: string;
  apiBaseUrl: string;
  timeoutMs: number;
}

export interface AppConfig {
  env: NodeEnv;
  http: {
    host: string;
    port: number;
    /** false, true, or the proxies (IPs / CIDRs) whose X-Forwarded-For is believed. */
    trustProxy: boolean | string[];
    /** false: no CORS headers; `*`: any origin, never reflected. */
    corsOrigins: string[] | '*' | false;
    bodyLimit: number;
  };
  database: DatabaseConfig;
  redis: { url?: string };
  jwt: JwtConfig;
  /** 32 bytes for AES-256-GCM of data at rest. */
  dataEncryptionKey: Buffer;
  wechat: WechatConfig;
  wechatPay: WechatPayConfig;
  /** The official account, the second WeChat app (`enabled: false` without one). */
  official: OfficialAccountConfig;
  orders: {
    /** ORDER_PAYMENT_TTL: how long a new order waits for payment. */
    paymentTtlSeconds: number;
  };
  rateLimit: { enabled: boolean; login: number; wechatUser: number };
  metricsToken?: string;
  adminOpenids: ReadonlySet<string>;
  logLevel: string;
  /** Plain statements about defaults chosen for this start (logged once, no secrets). */
  notices: string[];
}

export const APP_CONFIG_KEY = 'app';
