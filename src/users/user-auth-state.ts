import type { UserRole, UserStatus } from './user.entity.js';

export interface UserAuthState {
  role: UserRole;
  status: UserStatus;
}
