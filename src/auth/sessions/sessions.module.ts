import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoginSessionEntity } from './login-session.entity.js';
import { MemorySessionCache } from './memory-session-cache.js';
import { SESSION_CACHE } from './session-cache.port.js';
import { SessionsService } from './sessions.service.js';

/** Separate from AuthModule so UsersModule (disable, erase) can revoke logins without a cycle. */
@Module({
  imports: [TypeOrmModule.forFeature([LoginSessionEntity])],
  providers: [SessionsService, { provide: SESSION_CACHE, useClass: MemorySessionCache }],
  exports: [SessionsService],
})
export class SessionsModule {}
