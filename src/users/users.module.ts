import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module.js';
import { DatabaseModule } from '../database/database.module.js';
import { RateLimitModule } from '../rate-limit/rate-limit.module.js';
import { RedisModule } from '../redis/redis.module.js';
import { SecurityModule } from '../security/security.module.js';
import { SessionKeysModule } from '../session-keys/session-keys.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { WechatModule } from '../wechat/wechat.module.js';
import { AdminUsersController } from './admin-users.controller.js';
import { AdminUsersService } from './admin-users.service.js';
import { OaUnionidLookup } from './oa-unionid-lookup.js';
import { TypeormUserRepository, UserRepository } from './user.repository.js';
import { UserEntity } from './user.entity.js';
import { UserErasureParticipants } from './user-erasure.js';
import { UsersController } from './users.controller.js';
import { UsersService } from './users.service.js';

@Module({
  imports: [
    TypeOrmModule.forFeature([UserEntity]),
    DatabaseModule,
    RedisModule,
    RateLimitModule,
    SecurityModule,
    SessionsModule,
    SessionKeysModule,
    WechatModule,
    AuditModule,
  ],
  controllers: [UsersController, AdminUsersController],
  providers: [
    UsersService,
    AdminUsersService,
    UserErasureParticipants,
    OaUnionidLookup,
    { provide: UserRepository, useClass: TypeormUserRepository },
  ],
  exports: [UsersService, UserErasureParticipants, OaUnionidLookup],
})
export class UsersModule {}
