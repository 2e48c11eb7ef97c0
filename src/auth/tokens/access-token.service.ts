import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { JwtService } from '@nestjs/jwt';
import type { AppConfig } from '../../config/app-config.js';

export interface AccessTokenClaims {
  sub: string;
  sid: string;
}

/** HS256 access tokens; iss, aud and exp come from the module's sign options (auth.module.ts). */
@Injectable()
export class AccessTokenService {
  readonly ttlSeconds: number;

  constructor(
    private readonly jwt: JwtService,
    config: ConfigService<AppConfig, true>,
  ) {
    this.ttlSeconds = config.get('jwt', { infer: true }).accessTtl;
  }

  sign(claims: AccessTokenClaims): string {
    return this.jwt.sign({ sid: claims.sid }, { subject: claims.sub });
  }
}
