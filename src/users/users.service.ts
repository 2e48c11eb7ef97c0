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
import { OaUnionidLookup } from './oa-unionid-lookup.js';

/** Rounds of look-and-write before a sign-in gives up (each lost round means a concurrent change). */
const RESOLVE_ATTEMPTS = 4;
const NICKNAME_MAX = 64;
const AVATAR_URL_MAX = 1024;

/** What WeChat's /sns/userinfo tells about the person; fills only what the user has empty. */
export interface OAuthProfile {
  nickname?: string;
  avatarUrl?: string;
}

export interface IdentityResolution {
  user: UserEntity;
  created: boolean;
  /** The user gained this app's openid through the unionid. */
  linked: boolean;
}

/** WeChat's values as the columns hold them: nickname cut to its length, an avatar only if http(s). */
function profileFields(profile: OAuthProfile): Pick<Partial<UserEntity>, 'nickname' | 'avatarUrl'> {
  const fields: Pick<Partial<UserEntity>, 'nickname' | 'avatarUrl'> = {};
  const nickname = profile.nickname?.trim();
  if (nickname) fields.nickname = [...nickname].slice(0, NICKNAME_MAX).join('');
  const avatar = profile.avatarUrl;
  if (avatar && avatar.length <= AVATAR_URL_MAX && /^https?:\/\/[^\s]+$/i.test(avatar))
    fields.avatarUrl = avatar;
  return fields;
}

function fillEmpty(user: UserEntity, profile: OAuthProfile): Partial<UserEntity> | null {
  const fields = profileFields(profile);
  const patch: Partial<UserEntity> = {};
  if (fields.nickname && user.nickname === null) patch.nickname = fields.nickname;
  if (fields.avatarUrl && user.avatarUrl === null) patch.avatarUrl = fields.avatarUrl;
  return Object.keys(patch).length === 0 ? null : { ...patch, updatedAt: new Date() };
}

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
    private readonly oaUnionids: OaUnionidLookup,
  ) {
    this.byId = new InvalidatedCache(bus, 'users', { max: 100_000, maxAgeMs: 60_000 });
  }

  /**
   * The MP login's user: the one holding `openid`; else, when WeChat gave a unionid, the user holding
   * it (made by web sign-in, or linked as a follower), who gains this MP openid; else a new user.
   * Concurrent first logins of one person make one user: the unique indexes decide, and the loser
   * looks again and finds the winner.
   */
  async findOrCreateByOpenid(
    openid: string,
    unionid: string | undefined,
    role: UserRole,
    meta?: RequestMeta,
  ): Promise<{ user: UserEntity; created: boolean }> {
    const { user, created } = await this.resolve('openid', openid, unionid || null, null, meta, () =>
      this.newUser({ openid, role }),
    );
    return { user, created };
  }

  /**
   * Web sign-in (OAuth) with an official-account openid: the user holding it; else, when a unionid
   * is known (from WeChat with the code, or on record for this openid since it followed the OA),
   * the user holding that unionid, who gains the OA openid; else a new user. `profile` fills only
   * the fields the user has empty. Identities are never moved and users never merged.
   */
  async signInWithOaOpenid(
    oaOpenid: string,
    unionid: string | undefined,
    profile: OAuthProfile,
    meta: RequestMeta,
  ): Promise<IdentityResolution> {
    const found = await this.resolveOaUser(oaOpenid, unionid, profile, meta);
    // The follower record of this openid (if the callback keeps one) now belongs to the user, so
    // that erasing the user erases it too.
    await this.oaUnionids.linkUser(oaOpenid, found.user.id);
    return found;
  }

  private async resolveOaUser(
    oaOpenid: string,
    unionid: string | undefined,
    profile: OAuthProfile,
    meta: RequestMeta,
  ): Promise<IdentityResolution> {
    const onRecord = () => this.oaUnionids.unionidOf(oaOpenid);
    for (let attempt = 0; attempt < RESOLVE_ATTEMPTS; attempt++) {
      const found = await this.resolve('oaOpenid', oaOpenid, unionid || null, onRecord, meta, () =>
        this.newUser({ oaOpenid, role: 'user', ...profileFields(profile) }),
      );
      if (found.created) return found;
      const patch = fillEmpty(found.user, profile);
      if (!patch) return found;
      // Erased since it was read: the identities are free again, so look once more.
      if (!(await this.users.updateUnlessErased(found.user.id, patch))) continue;
      await this.byId.invalidate([found.user.id]);
      return { ...found, user: { ...found.user, ...patch } };
    }
    throw new AppError(ErrorCode.CONFLICT, 'the account changed during sign-in');
  }

  /**
   * A follower of the official account (subscribe event): the user it belongs to, if any. The user
   * holding `oaOpenid` (learning `unionid` if it has none and no other user holds it); else the user
   * holding `unionid`, who gains the OA openid if it has none. Never makes a user.
   */
  async linkFollower(
    oaOpenid: string,
    unionid: string | undefined,
    meta?: RequestMeta,
  ): Promise<string | null> {
    for (let attempt = 0; attempt < RESOLVE_ATTEMPTS; attempt++) {
      const holder = await this.users.findByOaOpenid(oaOpenid);
      if (holder) {
        if (unionid) await this.learnUnionid(holder, unionid);
        return holder.id;
      }
      if (!unionid) return null;
      const owner = await this.users.findByUnionid(unionid);
      if (!owner || owner.oaOpenid !== null) return null;
      if (await this.addIdentity(owner, 'oaOpenid', oaOpenid, meta)) return owner.id;
    }
    return null;
  }

  /**
   * The one rule for both apps; `column` holds this app's openid. `given` is the unionid WeChat sent
   * with this sign-in, `onRecord` (asked only when needed, once) the one learned earlier. Each failed
   * write means another sign-in changed the rows in between (it made the user, or linked the
   * identity first), so the next round reads what it did; a few rounds always settle it.
   */
  private async resolve(
    column: 'openid' | 'oaOpenid',
    openid: string,
    given: string | null,
    onRecord: (() => Promise<string | null>) | null,
    meta: RequestMeta | undefined,
    make: () => UserEntity,
  ): Promise<IdentityResolution> {
    let recorded: Promise<string | null> | undefined;
    const knownUnionid = async () => given ?? (onRecord ? await (recorded ??= onRecord()) : null);
    for (let attempt = 0; attempt < RESOLVE_ATTEMPTS; attempt++) {
      const holder =
        column === 'openid' ? await this.users.findByOpenid(openid) : await this.users.findByOaOpenid(openid);
      if (holder) {
        if (given) await this.learnUnionid(holder, given);
        return { user: holder, created: false, linked: false };
      }
      const unionid = await knownUnionid();
      const owner = unionid ? await this.users.findByUnionid(unionid) : null;
      if (owner && owner[column] === null) {
        if (await this.addIdentity(owner, column, openid, meta)) {
          return { user: { ...owner, [column]: openid }, created: false, linked: true };
        }
        continue;
      }
      // A unionid already held by a user with another identity in this app stays where it is.
      const user = { ...make(), unionid: owner ? null : unionid };
      if (await this.users.insertIfNew(user)) return { user, created: true, linked: false };
    }
    throw new AppError(ErrorCode.CONFLICT, 'the account changed during login');
  }

  /** A unionid learned later: kept only by a user without one, and only if no other user holds it. */
  private async learnUnionid(user: UserEntity, unionid: string): Promise<void> {
    if (user.unionid !== null) return;
    if (await this.users.addIdentity(user.id, 'unionid', unionid)) {
      user.unionid = unionid;
      await this.byId.invalidate([user.id]);
    }
  }

  private async addIdentity(
    owner: UserEntity,
    column: 'openid' | 'oaOpenid',
    openid: string,
    meta: RequestMeta | undefined,
  ): Promise<boolean> {
    if (!(await this.users.addIdentity(owner.id, column, openid))) return false;
    await this.byId.invalidate([owner.id]);
    await this.audit.record('identity_linked', {
      userId: owner.id,
      meta,
      detail: column === 'openid' ? 'mini-program openid, by unionid' : 'official-account openid, by unionid',
    });
    return true;
  }

  private newUser(fields: Partial<UserEntity> & Pick<UserEntity, 'role'>): UserEntity {
    const now = new Date();
    return {
      id: randomUUID(),
      openid: null,
      oaOpenid: null,
      unionid: null,
      nickname: null,
      avatarUrl: null,
      gender: 0,
      phoneEncrypted: null,
      phoneMasked: null,
      status: 'active',
      createdAt: now,
      updatedAt: now,
      erasedAt: null,
      ...fields,
    };
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

  /** Blanks every personal field (every identity too: a later sign-in makes a new user). */
  erase(id: string, tx: Transaction): Promise<void> {
    const now = new Date();
    return this.write(
      id,
      {
        status: 'erased',
        erasedAt: now,
        openid: null,
        oaOpenid: null,
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
