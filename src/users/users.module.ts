import { Module } from '@nestjs/common';
import { UnitOfWork } from '../database/unit-of-work.js';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module.js';
import { SessionsModule } from '../auth/sessions/sessions.module.js';
import { WechatModule } from '../wechat/wechat.module.js';
import { AdminUsersController } from './admin-users.controller.js';
import { AdminUsersService } from './admin-users.service.js';
import { SessionKeyEntity } from './session-key.entity.js';
import { SessionKeysService } from './session-keys.service.js';
import { UserEntity } from './user.entity.js';
import { UsersController } from './users.controller.js';
import { UsersService } from './users.service.js';

@Module({
  imports: [
    TypeOrmModule.forFeature([UserEntity, SessionKeyEntity]),
    SessionsModule,
    WechatModule,
    AuditModule,
  ],
  controllers: [UsersController, AdminUsersController],
  providers: [UsersService, AdminUsersService, SessionKeysService, UnitOfWork],
  exports: [UsersService, SessionKeysService],
})
export class UsersModule {}
