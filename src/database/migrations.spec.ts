import { readdirSync } from 'node:fs';
import { MIGRATIONS } from './migrations/index.js';

describe('migration register', () => {
  it('lists every migration of the folder, oldest first (npm run migration:index rewrites it)', () => {
    const files = readdirSync(new URL('./migrations/', import.meta.url))
      .filter((f) => /^\d{13}-.+\.ts$/.test(f))
      .sort();
    const stamps = MIGRATIONS.map((m) => /(\d{13})$/.exec(m.name)?.[1]);
    expect(stamps).toEqual(files.map((f) => f.slice(0, 13)));
  });
});
