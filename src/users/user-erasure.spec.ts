import type { Transaction } from '../database/unit-of-work.js';
import { META, unitWorld } from '../../test/support/unit-world.js';

describe('user erasure participants', () => {
  async function setup() {
    const w = unitWorld({ adminOpenids: ['o_boss'] });
    const boss = (await w.auth.login('boss', META)).user;
    const target = (await w.auth.login('target', META)).user;
    return { w, boss, target };
  }

  it('every registered participant runs inside the erasure transaction, once', async () => {
    const { w, boss, target } = await setup();
    const seen: Array<{ userId: string; tx: Transaction }> = [];
    const participant = {
      eraseUser: async (userId: string, tx: Transaction) => void seen.push({ userId, tx }),
    };
    w.erasureParticipants.register(participant);
    w.erasureParticipants.register(participant);
    const commits = w.uow.commits;
    await w.admin.erase(boss.id, target.id, META);
    expect(seen.map((s) => s.userId)).toEqual([target.id]);
    expect(seen[0].tx).toBeDefined();
    expect(w.uow.commits).toBe(commits + 1);
  });

  it('a participant that fails rolls the whole erasure back', async () => {
    const { w, boss, target } = await setup();
    w.erasureParticipants.register({
      eraseUser: async () => {
        throw new Error('orders unavailable');
      },
    });
    await expect(w.admin.erase(boss.id, target.id, META)).rejects.toThrow('orders unavailable');
    expect(w.repos.users.rows.get(target.id)?.status).toBe('active');
    expect(w.repos.audit.events(target.id)).not.toContain('user_erased');
  });
});
