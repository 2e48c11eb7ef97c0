import { Transform } from 'class-transformer';
import {
  IsBase64,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  MinLength,
} from 'class-validator';

const toInt = ({ value }: { value: unknown }) =>
  value === undefined || value === '' ? undefined : /^-?\d+$/.test(String(value)) ? Number(value) : value;
const emptyToUndefined = ({ value }: { value: unknown }) => (value === '' ? undefined : value);

/** Raw environment as docs/api.md lists it; checked by class-validator before anything starts. */
export class EnvironmentVariables {
  @IsOptional() @IsIn(['production', 'development', 'test']) NODE_ENV?: string;
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(65535) PORT?: number;
  @IsOptional() @IsString() HOST?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^(mysql|mariadb):\/\/[^\s/]+\/[^\s/?]+(\?.*)?$|^sqlite:.+$/, {
    message: 'must be mysql://user:pass@host:3306/db, sqlite:<path> or sqlite::memory:',
  })
  DATABASE_URL?: string;
  @IsOptional() @IsIn(['true', 'false']) DATABASE_MIGRATIONS_RUN?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^rediss?:\/\/.+/, { message: 'must be redis://host:6379/0' })
  REDIS_URL?: string;

  /** Length is checked in UTF-8 bytes by loadConfig (MinLength would count characters). */
  @IsOptional() @Transform(emptyToUndefined) @IsString() JWT_SECRET?: string;
  @IsOptional() @Transform(toInt) @IsInt() @Min(30) @Max(86400) JWT_ACCESS_TTL?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(60) @Max(31536000) JWT_REFRESH_TTL?: number;
  @IsOptional() @Transform(emptyToUndefined) @IsString() @MinLength(1) JWT_ISSUER?: string;
  @IsOptional() @Transform(emptyToUndefined) @IsString() @MinLength(1) JWT_AUDIENCE?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsBase64(undefined, { message: 'must be 32 bytes of base64' })
  DATA_ENCRYPTION_KEY?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^wx[0-9a-zA-Z]{6,32}$/, {
    message: 'must be a WeChat app id (wx…)',
  })
  WECHAT_APP_ID?: string;
  @IsOptional() @Transform(emptyToUndefined) @IsString() WECHAT_APP_SECRET?: string;
  @IsOptional()
  @Transform(emptyToUndefined)
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  WECHAT_API_BASE_URL?: string;
  @IsOptional() @Transform(toInt) @IsInt() @Min(100) @Max(60000) WECHAT_TIMEOUT_MS?: number;
  @IsOptional() @Transform(emptyToUndefined) @IsIn(['live', 'sandbox']) WECHAT_MODE?: string;

  /**
   * WeChat Pay. Formats here; what depends on other variables (live-mode requirements, the key
   * files and their parsing, the 32 bytes of the APIv3 key, URLs) in wechat-pay-config.ts.
   */
  @IsOptional() @Transform(emptyToUndefined) @IsIn(['live', 'sandbox', 'off']) WECHAT_PAY_MODE?: string;
  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^\d{1,32}$/, { message: 'must be 1-32 digits' })
  WECHAT_PAY_MCHID?: string;
  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^[0-9A-Fa-f]{1,64}$/, { message: 'must be 1-64 hex digits' })
  WECHAT_PAY_MERCHANT_SERIAL?: string;
  @IsOptional() @Transform(emptyToUndefined) @IsString() WECHAT_PAY_PRIVATE_KEY?: string;
  @IsOptional() @Transform(emptyToUndefined) @IsString() WECHAT_PAY_APIV3_KEY?: string;
  @IsOptional() @Transform(emptyToUndefined) @IsString() WECHAT_PAY_PUBLIC_KEY?: string;
  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^PUB_KEY_ID_[A-Za-z0-9]{1,64}$/, {
    message: 'must be PUB_KEY_ID_ followed by 1-64 letters or digits',
  })
  WECHAT_PAY_PUBLIC_KEY_ID?: string;
  @IsOptional() @Transform(emptyToUndefined) @IsString() WECHAT_PAY_NOTIFY_URL?: string;
  @IsOptional() @Transform(emptyToUndefined) @IsString() WECHAT_PAY_REFUND_NOTIFY_URL?: string;
  @IsOptional()
  @Transform(emptyToUndefined)
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  WECHAT_PAY_API_BASE_URL?: string;
  @IsOptional() @Transform(toInt) @IsInt() @Min(5) @Max(86400) ORDER_PAYMENT_TTL?: number;

  /**
   * The official account. Formats here; what depends on other variables (the secret, Token and
   * PUBLIC_BASE_URL an app id needs, the allow-list's entries) in official-account-config.ts.
   */
  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^wx[0-9a-zA-Z]{6,32}$/, { message: 'must be a WeChat app id (wx…)' })
  WECHAT_OA_APP_ID?: string;
  @IsOptional() @Transform(emptyToUndefined) @IsString() WECHAT_OA_APP_SECRET?: string;
  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^[A-Za-z0-9]{3,32}$/, { message: 'must be 3-32 letters or digits (A-Za-z0-9)' })
  WECHAT_OA_TOKEN?: string;
  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^[A-Za-z0-9]{43}$/, { message: 'must be exactly 43 letters or digits (A-Za-z0-9)' })
  WECHAT_OA_ENCODING_AES_KEY?: string;
  @IsOptional() @Transform(emptyToUndefined) @IsString() WECHAT_OA_WELCOME_TEXT?: string;
  @IsOptional() @Transform(emptyToUndefined) @IsString() PUBLIC_BASE_URL?: string;
  @IsOptional() @Transform(emptyToUndefined) @IsString() OAUTH_REDIRECT_ALLOWLIST?: string;

  @IsOptional() @IsIn(['true', 'false']) RATE_LIMIT_ENABLED?: string;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(1000000) RATE_LIMIT_LOGIN?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(1000000) RATE_LIMIT_WECHAT_USER?: number;
  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^(true|false|[0-9a-fA-F.:/]+(\s*,\s*[0-9a-fA-F.:/]+)*)$/, {
    message: 'must be false, true, or a comma list of IPs / CIDRs',
  })
  TRUST_PROXY?: string;
  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  @MinLength(16, { message: 'must be at least 16 characters' })
  METRICS_TOKEN?: string;
  @IsOptional() @IsString() ADMIN_OPENIDS?: string;
  @IsOptional() @Transform(emptyToUndefined) @IsString() CORS_ORIGINS?: string;
  @IsOptional() @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) LOG_LEVEL?: string;
}
