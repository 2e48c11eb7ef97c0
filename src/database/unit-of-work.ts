import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { asDomainError, retryOnDeadlock } from './db-errors.js';

/**
 * The writes of one rule that must land together. Services only pass it on to repositories and
 * register what must wait for the commit; what it holds is the repositories' business.
 */
export interface Transaction {
  /**
   * Runs after the commit, never before: a cache cleared inside the transaction could be filled
   * again by another request (or instance) from the rows as they were before the commit.
   */
  afterCommit(hook: () => Promise<unknown> | unknown): void;
}

/** Transactions for rules that span rows (erasure, disable). */
export abstract class UnitOfWork {
  abstract run<T>(work: (tx: Transaction) => Promise<T>): Promise<T>;
}

interface TypeormTransaction extends Transaction {
  readonly manager: EntityManager;
}

/** The entity manager of `tx` when given (repositories' statements join it), else `fallback`. */
export function managerOf(tx: Transaction | undefined, fallback: EntityManager): EntityManager {
  return tx ? (tx as TypeormTransaction).manager : fallback;
}

/**
 * TypeORM's transactions. A deadlock rolls the whole transaction back; it is then run again from
 * the start, so it is never half done and never a 500.
 */
@Injectable()
export class TypeormUnitOfWork extends UnitOfWork {
  /**
   * better-sqlite3 is one connection: a second BEGIN while a transaction is open fails ("cannot
   * start a transaction within a transaction"), so on SQLite transactions take turns.
   */
  private turn: Promise<unknown> | null;

  constructor(private readonly dataSource: DataSource) {
    super();
    this.turn = dataSource.options.type === 'better-sqlite3' ? Promise.resolve() : null;
  }

  run<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    if (this.turn === null) return this.commit(work);
    const result = this.turn.then(() => this.commit(work));
    this.turn = result.catch(() => undefined);
    return result;
  }

  /** The transaction, run again whole after a deadlock; its after-commit hooks once, after it. */
  private async commit<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    let hooks: Array<() => Promise<unknown> | unknown> = [];
    let result: T;
    try {
      result = await retryOnDeadlock(() => {
        hooks = [];
        return this.dataSource.transaction((manager) => {
          const tx: TypeormTransaction = { manager, afterCommit: (hook) => hooks.push(hook) };
          return work(tx);
        });
      });
    } catch (error) {
      throw asDomainError(error);
    }
    for (const hook of hooks) await hook();
    return result;
  }
}
