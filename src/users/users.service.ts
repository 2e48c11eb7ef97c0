import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { AppError } from '../common/errors/app-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import type { RequestMeta } from '../common/http/request-meta.js';
import { InvalidatedCache } from '../common/invalidation/invalidated-cache.js';
import { INVALIDATION_BUS, type InvalidationBus } from '../common/invalidation/invalidation-bus.port.js';
import { batchedRead } from '../database/batching.js';
import { rowReader } from '../database/raw-rows.js';
import { isUniqueViolation } from '../database/db-errors.js';
import { DataCipher } from '../security/data-cipher.js';
import { WECHAT_CLIENT, type WechatClient } from '../wechat/wechat-client.port.js';
import type { UpdateProfileDto } from './dto/update-profile.dto.js';
import type { UserAuthState } from './user-auth-state.js';
import { maskPhone } from './user-view.js';
import { UserEntity, type UserRole } from './user.entity.js';

/** A user's own account: creation at first login, profile, phone, and the state auth checks. */
@Injectable()
export class UsersService {
  /**
   * Users by id, read on every authenticated request (auth state) and by /users/me. Every write to
   * a user row goes through this service and drops the entry on every instance.
   */
  private readonly byId: InvalidatedCache<UserEntity>;
  /** Every login looks its user up: batched across concurrent logins (database/batching.ts). */
  private readonly findByOpenid: (openid: string) => Promise<UserEntity | null>;

  constructor(
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
    @Inject(WECHAT_CLIENT) private readonly wechat: WechatClient,
    private readonly cipher: DataCipher,
    private readonly audit: AuditService,
    @Inject(INVALIDATION_BUS) bus: InvalidationBus,
  ) {
    this.byId = new InvalidatedCache(bus, 'users', { max: 100_000, maxAgeMs: 60_000 });
    this.findByOpenid = batchedRead(rowReader(users, 'openid'), (row) => row.openid as string);
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
    const existing = await this.findByOpenid(openid);
    if (existing) return { user: existing, created: false };
    const now = new Date();
    const user = this.users.create({
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
    });
    try {
      await this.users.insert(user);
      return { user, created: true };
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      const winner = await this.users.findOneBy({ openid });
      if (!winner) throw error;
      return { user: winner, created: false };
    }
  }

  /** Visible users only: an erased one is gone as far as the API is concerned. */
  async getVisible(id: string): Promise<UserEntity> {
    const user = await this.cached(id);
    if (!user || user.status === 'erased') throw new AppError(ErrorCode.NOT_FOUND, 'no such user');
    return user;
  }

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

  /** Hot path (every authenticated request): answered from the cache in the common case. */
  async getAuthState(id: string): Promise<UserAuthState | null> {
    const user = await this.cached(id);
    return user && { role: user.role, status: user.status };
  }

  private cached(id: string): Promise<UserEntity | null> {
    return this.byId.getOrLoad(id, () => this.users.findOneBy({ id }));
  }

  /** Role, status and erasure (admin, ADMIN_OPENIDS at login). */
  setAuthState(id: string, patch: Partial<UserEntity>): Promise<void> {
    return this.write(id, { ...patch, updatedAt: new Date() });
  }

  /** The one writer of user rows after creation, so no instance's cache can go stale. */
  private async write(id: string, patch: Partial<UserEntity>): Promise<void> {
    await this.users.update({ id }, patch);
    await this.byId.invalidate([id]);
  }
}
