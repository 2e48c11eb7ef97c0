import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoginSessionEntity } from './login-session.entity.js';
import { SessionsService } from './sessions.service.js';

/** Separate from AuthModule so UsersModule (disable, erase) can revoke logins without a cycle. */
@Module({
  imports: [TypeOrmModule.forFeature([LoginSessionEntity])],
  providers: [SessionsService],
  exports: [SessionsService],
})
export class SessionsModule {}
