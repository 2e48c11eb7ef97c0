import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { Transaction } from '../database/unit-of-work.js';
import { UserErasureParticipants, type UserErasureParticipant } from '../users/user-erasure.js';
import { OrderRepository } from './order.repository.js';

/** A user's erasure blanks the shipping address of every order of theirs, in its transaction. */
@Injectable()
export class OrderErasure implements UserErasureParticipant, OnModuleInit {
  constructor(
    private readonly orders: OrderRepository,
    private readonly participants: UserErasureParticipants,
  ) {}

  onModuleInit(): void {
    this.participants.register(this);
  }

  eraseUser(userId: string, tx: Transaction): Promise<void> {
    return this.orders.blankShippingAddresses(userId, tx);
  }
}
