import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { JwtService } from '@nestjs/jwt';
import { jwtConfig } from '../../config/config.slices.js';

export interface AccessTokenClaims {
  sub: string;
  sid: string;
}

/** HS256 access tokens; iss, aud and exp come from the module's sign options (auth.module.ts). */
@Injectable()
export class AccessTokenService {
  readonly ttlSeconds: number;

  constructor(
    private readonly signer: JwtService,
    @Inject(jwtConfig.KEY) jwt: ConfigType<typeof jwtConfig>,
  ) {
    this.ttlSeconds = jwt.accessTtl;
  }

  sign(claims: AccessTokenClaims): string {
    return this.signer.sign({ sid: claims.sid }, { subject: claims.sub });
  }
}
