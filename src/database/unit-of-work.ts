import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { retryOnDeadlock } from './db-errors.js';

/** The writes of one rule that must land together, and what to do once they have. */
export interface Transaction {
  readonly manager: EntityManager;
  /**
   * Runs after the commit, never before: a cache cleared inside the transaction could be filled
   * again by another request (or instance) from the rows as they were before the commit.
   */
  afterCommit(hook: () => Promise<unknown> | unknown): void;
}

/**
 * Transactions for rules that span rows (erasure, disable). A deadlock rolls the whole transaction
 * back; it is then run again from the start, so it is never half done and never a 500.
 */
@Injectable()
export class UnitOfWork {
  /**
   * better-sqlite3 is one connection: a second BEGIN while a transaction is open fails ("cannot
   * start a transaction within a transaction"), so on SQLite transactions take turns.
   */
  private turn: Promise<unknown> | null;

  constructor(private readonly dataSource: DataSource) {
    this.turn = dataSource.options.type === 'better-sqlite3' ? Promise.resolve() : null;
  }

  run<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    if (this.turn === null) return this.attempt(work);
    const result = this.turn.then(() => this.attempt(work));
    this.turn = result.catch(() => undefined);
    return result;
  }

  private attempt<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    return retryOnDeadlock(async () => {
      const hooks: Array<() => Promise<unknown> | unknown> = [];
      const result = await this.dataSource.transaction((manager) =>
        work({ manager, afterCommit: (hook) => hooks.push(hook) }),
      );
      for (const hook of hooks) await hook();
      return result;
    });
  }
}
