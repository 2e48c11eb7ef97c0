import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SecurityModule } from '../security/security.module.js';
import { SessionKeyEntity } from './session-key.entity.js';
import { SessionKeyRepository, TypeormSessionKeyRepository } from './session-key.repository.js';
import { SessionKeysService } from './session-keys.service.js';

/**
 * The WeChat session key of each user's latest login (encrypted at rest), a platform module: auth
 * stores it at login, wechat-data decrypts with it, users drop it at erasure.
 */
@Module({
  imports: [TypeOrmModule.forFeature([SessionKeyEntity]), SecurityModule],
  providers: [SessionKeysService, { provide: SessionKeyRepository, useClass: TypeormSessionKeyRepository }],
  exports: [SessionKeysService],
})
export class SessionKeysModule {}
