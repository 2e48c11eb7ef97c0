import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { RedisModule } from '../redis/redis.module.js';
import { LoginSessionEntity } from './login-session.entity.js';
import { SessionRepository } from './session.repository.js';
import { SessionsService } from './sessions.service.js';
import { TypeormSessionRepository } from './typeorm-session.repository.js';

/**
 * Login sessions, a platform module of their own: auth issues and refreshes them, users (disable,
 * erasure) revoke them, and neither feature reaches into the other.
 */
@Module({
  imports: [TypeOrmModule.forFeature([LoginSessionEntity]), RedisModule],
  providers: [SessionsService, { provide: SessionRepository, useClass: TypeormSessionRepository }],
  exports: [SessionsService],
})
export class SessionsModule {}
