import { ESLint } from 'eslint';

/**
 * The lint rule that keeps dependencies running one way fails `npm run lint` on an import against
 * the direction, and passes the directions the layout allows.
 */
describe('dependency direction (ESLint boundaries rule)', () => {
  const eslint = new ESLint();

  async function problems(filePath: string, code: string): Promise<string[]> {
    const [result] = await eslint.lintText(code, { filePath });
    return result.messages.filter((m) => m.ruleId === 'boundaries/dependencies').map((m) => m.message);
  }

  it.each([
    ['src/common/x.ts', "import { UsersService } from '../users/users.service.js';"],
    ['src/sessions/x.ts', "import { UsersService } from '../users/users.service.js';"],
    ['src/users/x.ts', "import { AuthService } from '../auth/auth.service.js';"],
    ['src/database/x.ts', "import { UserEntity } from '../users/user.entity.js';"],
    ['src/config/x.ts', "import { RedisConnections } from '../redis/redis-connections.js';"],
  ])('%s may not %s', async (filePath, code) => {
    expect(await problems(filePath, `${code}\nexport const used = [${code.split(' ')[2]}];\n`)).toHaveLength(
      1,
    );
  });

  it.each([
    ['src/auth/x.ts', "import { UsersService } from '../users/users.service.js';"],
    ['src/users/x.ts', "import { SessionsService } from '../sessions/sessions.service.js';"],
    ['src/sessions/x.ts', "import { UnitOfWork } from '../database/unit-of-work.js';"],
    ['src/wechat-data/x.ts', "import { SessionKeysService } from '../session-keys/session-keys.service.js';"],
  ])('%s may %s', async (filePath, code) => {
    expect(await problems(filePath, `${code}\nexport const used = [${code.split(' ')[2]}];\n`)).toEqual([]);
  });
});
