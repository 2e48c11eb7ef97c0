import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import { AppError } from '../common/errors/app-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import type { RequestMeta } from '../common/http/request-meta.js';
import type { Page } from '../common/validation/page.query.js';
import type { AdminUpdateUserDto } from './dto/admin-update-user.dto.js';
import type { ListUsersQuery } from './dto/list-users.query.js';
import { SessionKeysService } from '../session-keys/session-keys.service.js';
import type { UserEntity } from './user.entity.js';
import { UserErasureParticipants } from './user-erasure.js';
import { UserRepository } from './user.repository.js';
import { UsersService } from './users.service.js';

export type UserPage = Page<UserEntity>;

/** What an admin may do to other users. Disabling and erasing end the user's logins at once. */
@Injectable()
export class AdminUsersService {
  constructor(
    private readonly users: UserRepository,
    private readonly accounts: UsersService,
    private readonly sessions: SessionsService,
    private readonly sessionKeys: SessionKeysService,
    private readonly audit: AuditService,
    private readonly uow: UnitOfWork,
    private readonly erasureParticipants: UserErasureParticipants,
  ) {}

  async list(query: ListUsersQuery): Promise<UserPage> {
    const { items, total } = await this.users.list(query);
    return { items, total, page: query.page, pageSize: query.pageSize };
  }

  get(id: string): Promise<UserEntity> {
    return this.accounts.getVisible(id);
  }

  async update(
    actorId: string,
    id: string,
    changes: AdminUpdateUserDto,
    meta: RequestMeta,
  ): Promise<UserEntity> {
    const user = await this.accounts.getVisible(id);
    if (id === actorId && (changes.role === 'user' || changes.status === 'disabled')) {
      // An admin locking themselves out is never what they meant; another admin can do it.
      throw new AppError(ErrorCode.CONFLICT, 'admins cannot demote or disable themselves');
    }
    const patch: Partial<UserEntity> = {};
    if (changes.role && changes.role !== user.role) patch.role = changes.role;
    if (changes.status && changes.status !== user.status) patch.status = changes.status;
    if (Object.keys(patch).length === 0) return user;

    // One transaction: a disable that stored the status but not the revocation would let the old
    // tokens work again after a later enable.
    await this.uow.run(async (tx) => {
      await this.accounts.setAuthState(id, patch, tx);
      if (patch.status === 'disabled') await this.sessions.revokeAllForUser(id, 'disabled', tx);
      if (patch.role) {
        await this.audit.record(
          'role_changed',
          { userId: id, actorId, meta, detail: `${user.role}->${patch.role}` },
          tx,
        );
      }
      if (patch.status) {
        await this.audit.record(
          'status_changed',
          { userId: id, actorId, meta, detail: `${user.status}->${patch.status}` },
          tx,
        );
      }
    });
    return this.accounts.getVisible(id);
  }

  /**
   * Erasure, in one transaction: personal data goes (every identity too, MP and OA openids and the
   * unionid, so a later sign-in makes a new user), logins end and lose their IP and user agent, the
   * session key goes, and the user's audit entries keep only ids, event names and times. The row
   * stays, anonymous, so audit entries still resolve. A write racing the erasure either lands
   * before it (and is blanked) or is refused after it (UsersService.write).
   */
  async erase(actorId: string, id: string, meta: RequestMeta): Promise<void> {
    await this.accounts.getVisible(id);
    if (id === actorId) throw new AppError(ErrorCode.CONFLICT, 'admins cannot erase themselves');
    await this.uow.run(async (tx) => {
      await this.accounts.erase(id, tx);
      await this.sessions.revokeAllForUser(id, 'erased', tx);
      await this.sessions.forgetClientDetails(id, tx);
      await this.sessionKeys.delete(id, tx);
      await this.audit.forgetUser(id, tx);
      await this.erasureParticipants.eraseUser(id, tx);
      // The admin's request id ties the erasure to the admin's own request log; no IP is kept.
      await this.audit.record('user_erased', { userId: id, actorId, meta: { ...meta, ip: '' } }, tx);
    });
  }
}
