import { ApiProperty } from '@nestjs/swagger';
import type { UserEntity, UserRole } from './user.entity.js';

/** The public shape of a user (docs/api.md `User`). Nothing else decides what leaves the service. */
export class UserView {
  @ApiProperty({ example: '6f1c2b9e-3d5a-4c1e-9a63-0b7d4f2e8a11' }) id!: string;
  @ApiProperty({ type: String, nullable: true }) nickname!: string | null;
  @ApiProperty({ type: String, nullable: true }) avatarUrl!: string | null;
  @ApiProperty({ enum: [0, 1, 2], description: '0 unknown, 1 male, 2 female' }) gender!: number;
  @ApiProperty({ type: String, nullable: true, example: '138****8000', description: 'always masked' })
  phone!: string | null;
  @ApiProperty({ enum: ['user', 'admin'] }) role!: UserRole;
  @ApiProperty({ enum: ['active', 'disabled'] }) status!: 'active' | 'disabled';
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export function toUserView(user: UserEntity): UserView {
  return {
    id: user.id,
    nickname: user.nickname,
    avatarUrl: user.avatarUrl,
    gender: user.gender,
    phone: user.phoneMasked,
    role: user.role,
    status: user.status === 'disabled' ? 'disabled' : 'active',
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
  };
}

/** `13800138000` → `138****8000`; short or foreign numbers keep only their last digits. */
export function maskPhone(purePhoneNumber: string): string {
  const digits = purePhoneNumber.replace(/\D/g, '');
  if (digits.length >= 11) return `${digits.slice(0, 3)}****${digits.slice(-4)}`;
  if (digits.length >= 7) return `****${digits.slice(-4)}`;
  return '****';
}
