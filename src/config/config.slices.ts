import { registerAs, type ConfigFactory, type ConfigType } from '@nestjs/config';
import type { AppConfig } from './app-config.js';

/**
 * One typed slice of the configuration per area, each its own injection token (`registerAs`): a
 * service asks for what it reads (`@Inject(jwtConfig.KEY) jwt: ConfigType<typeof jwtConfig>`), and
 * a unit test provides a plain object under that key instead of faking the whole ConfigService.
 *
 * The configuration is validated once from an environment object (load-config.ts), and several
 * differently configured apps may run in one process (the tests do), so each app's values come
 * from `sliceFactories(config)`; the definitions here name the slices and fix their types.
 */
const ALL: Array<{ name: string; pick: (config: AppConfig) => object }> = [];

function slice<T extends object>(name: string, pick: (config: AppConfig) => T) {
  ALL.push({ name, pick });
  return registerAs(name, (): T => {
    throw new Error(`the ${name} configuration is provided by AppModule.register(config)`);
  });
}

export const databaseConfig = slice('database', (c) => c.database);
export const redisConfig = slice('redis', (c) => c.redis);
export const jwtConfig = slice('jwt', (c) => c.jwt);
export const wechatConfig = slice('wechat', (c) => c.wechat);
export const wechatPayConfig = slice('wechatPay', (c) => c.wechatPay);
/** The official account; `enabled: false` when WECHAT_OA_APP_ID is unset outside the sandbox. */
export const officialConfig = slice('official', (c) => c.official);
export const ordersConfig = slice('orders', (c) => c.orders);
export const rateLimitConfig = slice('rateLimit', (c) => c.rateLimit);
export const securityConfig = slice('security', (c) => ({ dataEncryptionKey: c.dataEncryptionKey }));
export const metricsConfig = slice('metrics', (c) => ({ token: c.metricsToken }));
export const authConfig = slice('auth', (c) => ({ adminOpenids: c.adminOpenids }));

export type JwtSlice = ConfigType<typeof jwtConfig>;
export type WechatSlice = ConfigType<typeof wechatConfig>;
export type WechatPaySlice = ConfigType<typeof wechatPayConfig>;
export type OfficialSlice = ConfigType<typeof officialConfig>;
export type OrdersSlice = ConfigType<typeof ordersConfig>;

/**
 * ConfigModule's `load` list for one app. registerAs derives the token from the name alone, so
 * these factories answer the tokens declared above.
 */
export function sliceFactories(config: AppConfig): ConfigFactory[] {
  return ALL.map(({ name, pick }) => registerAs(name, () => pick(config)));
}
