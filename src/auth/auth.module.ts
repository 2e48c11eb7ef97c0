import { createSecretKey } from 'node:crypto';
import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { AuditModule } from '../audit/audit.module.js';
import type { AppConfig } from '../config/app-config.js';
import { UsersModule } from '../users/users.module.js';
import { WechatModule } from '../wechat/wechat.module.js';
import { AuthController } from './auth.controller.js';
import { AuthService } from './auth.service.js';
import { JwtAuthGuard } from './guards/jwt-auth.guard.js';
import { JwtStrategy } from './guards/jwt.strategy.js';
import { RolesGuard } from './guards/roles.guard.js';
import { SessionsModule } from './sessions/sessions.module.js';
import { AccessTokenService } from './tokens/access-token.service.js';

@Module({
  imports: [
    PassportModule,
    JwtModule.registerAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>) => {
        const jwt = config.get('jwt', { infer: true });
        return {
          secret: createSecretKey(Buffer.from(jwt.secret, 'utf8')),
          signOptions: {
            algorithm: 'HS256',
            expiresIn: jwt.accessTtl,
            issuer: jwt.issuer,
            audience: jwt.audience,
          },
          verifyOptions: { algorithms: ['HS256'], issuer: jwt.issuer, audience: jwt.audience },
        };
      },
    }),
    UsersModule,
    SessionsModule,
    WechatModule,
    AuditModule,
  ],
  controllers: [AuthController],
  providers: [
    AuthService,
    AccessTokenService,
    JwtStrategy,
    // Order matters: authenticate, then authorise.
    { provide: APP_GUARD, useClass: JwtAuthGuard },
    { provide: APP_GUARD, useClass: RolesGuard },
  ],
})
export class AuthModule {}
