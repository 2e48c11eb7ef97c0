import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { AppError } from '../common/errors/app-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import type { RequestMeta } from '../common/http/request-meta.js';
import { InvalidatedCache } from '../common/invalidation/invalidated-cache.js';
import { INVALIDATION_BUS, type InvalidationBus } from '../common/invalidation/invalidation-bus.port.js';
import type { Transaction } from '../database/unit-of-work.js';
import { DataCipher } from '../security/data-cipher.js';
import { WECHAT_CLIENT, type WechatClient } from '../wechat/wechat-client.port.js';
import type { UpdateProfileDto } from './dto/update-profile.dto.js';
import type { UserAuthState } from './user-auth-state.js';
import { maskPhone } from './user-view.js';
import type { UserEntity, UserRole, UserStatus } from './user.entity.js';
import { UserRepository } from './user.repository.js';

/** A user's own account: creation at first login, profile, phone, and the state auth checks. */
@Injectable()
export class UsersService {
  /**
   * Users by id, read on every authenticated request (auth state) and by /users/me. Every write to
   * a user row goes through this service and drops the entry on every instance.
   */
  private readonly byId: InvalidatedCache<UserEntity>;

  constructor(
    private readonly users: UserRepository,
    @Inject(WECHAT_CLIENT) private readonly wechat: WechatClient,
    private readonly cipher: DataCipher,
    private readonly audit: AuditService,
    @Inject(INVALIDATION_BUS) bus: InvalidationBus,
  ) {
    this.byId = new InvalidatedCache(bus, 'users', { max: 100_000, maxAgeMs: 60_000 });
  }

  /**
   * Two concurrent first logins of one openid make one user: the unique index on openid decides,
   * and the loser reads the winner's row.
   */
  async findOrCreateByOpenid(
    openid: string,
    unionid: string | undefined,
    role: UserRole,
  ): Promise<{ user: UserEntity; created: boolean }> {
    const existing = await this.users.findByOpenid(openid);
    if (existing) return { user: existing, created: false };
    const now = new Date();
    const user: UserEntity = {
      id: randomUUID(),
      openid,
      unionid: unionid ?? null,
      nickname: null,
      avatarUrl: null,
      gender: 0,
      phoneEncrypted: null,
      phoneMasked: null,
      role,
      status: 'active',
      createdAt: now,
      updatedAt: now,
      erasedAt: null,
    };
    if (await this.users.insertIfNew(user)) return { user, created: true };
    const winner = await this.users.findByOpenid(openid);
    if (!winner) throw new AppError(ErrorCode.CONFLICT, 'the account changed during login');
    return { user: winner, created: false };
  }

  /** Visible users only: an erased one is gone as far as the API is concerned. */
  async getVisible(id: string): Promise<UserEntity> {
    const user = await this.cached(id);
    if (!user || user.status === 'erased') throw new AppError(ErrorCode.NOT_FOUND, 'no such user');
    return user;
  }

  /** `null` clears nickname or avatar (the DTO refuses null elsewhere). */
  async updateProfile(id: string, changes: UpdateProfileDto): Promise<UserEntity> {
    const user = await this.getVisible(id);
    const patch: Partial<UserEntity> = { updatedAt: new Date() };
    if (changes.nickname !== undefined) patch.nickname = changes.nickname;
    if (changes.avatarUrl !== undefined) patch.avatarUrl = changes.avatarUrl;
    if (changes.gender !== undefined) patch.gender = changes.gender;
    await this.write(id, patch);
    return { ...user, ...patch };
  }

  /** getPhoneNumber with the button's code; the number is kept encrypted, and masked for reads. */
  async bindPhone(id: string, code: string, meta: RequestMeta): Promise<UserEntity> {
    const user = await this.getVisible(id);
    const info = await this.wechat.getPhoneNumber(code);
    const patch: Partial<UserEntity> = {
      phoneEncrypted: this.cipher.encrypt(info.phoneNumber),
      phoneMasked: maskPhone(info.purePhoneNumber || info.phoneNumber),
      updatedAt: new Date(),
    };
    await this.write(id, patch);
    await this.audit.record('phone_bound', { userId: id, meta });
    return { ...user, ...patch };
  }

  /**
   * A login's last word, read after its session was stored: the user's status as committed, past
   * any disable or erasure still in progress (their transaction holds the row; this read waits).
   * Either that transaction revoked the new session, or this read sees its outcome: no login
   * started before a disable survives it.
   */
  statusAfterLogin(id: string): Promise<UserStatus | null> {
    return this.users.findCommittedStatus(id);
  }

  /** Hot path (every authenticated request): answered from the cache in the common case. */
  async getAuthState(id: string): Promise<UserAuthState | null> {
    const user = await this.cached(id);
    return user && { role: user.role, status: user.status };
  }

  private cached(id: string): Promise<UserEntity | null> {
    return this.byId.getOrLoad(id, () => this.users.findById(id));
  }

  /** Role and status (admin, ADMIN_OPENIDS at login); inside `tx` when part of a larger rule. */
  setAuthState(
    id: string,
    patch: Pick<Partial<UserEntity>, 'role' | 'status'>,
    tx?: Transaction,
  ): Promise<void> {
    return this.write(id, { ...patch, updatedAt: new Date() }, tx);
  }

  /** Blanks every personal field (openid and unionid too: a later login makes a new user). */
  erase(id: string, tx: Transaction): Promise<void> {
    const now = new Date();
    return this.write(
      id,
      {
        status: 'erased',
        erasedAt: now,
        openid: null,
        unionid: null,
        nickname: null,
        avatarUrl: null,
        gender: 0,
        phoneEncrypted: null,
        phoneMasked: null,
        updatedAt: now,
      },
      tx,
    );
  }

  /**
   * The one writer of user rows after creation, so no instance's cache can go stale. An erased
   * user stays blank: only a row that is not erased is written, so a write already under way when
   * the erasure committed (a phone binding waiting on WeChat) changes nothing and answers 404.
   */
  private async write(id: string, patch: Partial<UserEntity>, tx?: Transaction): Promise<void> {
    if (!(await this.users.updateUnlessErased(id, patch, tx))) {
      throw new AppError(ErrorCode.NOT_FOUND, 'no such user');
    }
    const invalidate = () => this.byId.invalidate([id]);
    if (tx) tx.afterCommit(invalidate);
    else await invalidate();
  }
}
