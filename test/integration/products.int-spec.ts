import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { DataSource } from 'typeorm';
import { AppError } from '../../src/common/errors/app-error.js';
import { ErrorCode } from '../../src/common/errors/error-code.js';
import { loadConfig } from '../../src/config/load-config.js';
import { dataSourceOptions } from '../../src/database/data-source.options.js';
import { TypeormUnitOfWork } from '../../src/database/unit-of-work.js';
import { ENTITIES } from '../../src/entities.js';
import { ProductEntity } from '../../src/products/product.entity.js';
import type { StockLine } from '../../src/products/product.repository.js';
import { TypeormProductRepository } from '../../src/products/typeorm-product.repository.js';
import { productRow } from '../support/in-memory-products.js';

/**
 * The stock guarantees of the product repository against the real databases: a reservation is one
 * conditional UPDATE per line whose affected-row count decides, so concurrent transactions never
 * take the same unit; the caller's rollback makes it all or none. Plus paging and the title search,
 * whose LIKE and case rules differ between MariaDB and SQLite.
 */
const MARIADB_ROOT = 'mysql://root@127.0.0.1:3306';

async function openDatabase(
  kind: 'mariadb' | 'sqlite',
): Promise<{ ds: DataSource; drop: () => Promise<void> }> {
  let url = 'sqlite::memory:';
  let drop = async () => undefined;
  if (kind === 'mariadb') {
    const name = `int_${randomBytes(6).toString('hex')}`;
    const admin = await mysql.createConnection(MARIADB_ROOT);
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    await admin.end();
    url = `${MARIADB_ROOT}/${name}`;
    drop = async () => {
      const conn = await mysql.createConnection(MARIADB_ROOT);
      await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await conn.end();
    };
  }
  const options = dataSourceOptions(loadConfig({ DATABASE_URL: url, NODE_ENV: 'test' }).database, {
    entities: ENTITIES,
  });
  const ds = await new DataSource({ ...options, migrationsRun: true }).initialize();
  return { ds, drop };
}

describe.each(['mariadb', 'sqlite'] as const)('product repository on %s', (kind) => {
  let ds: DataSource;
  let drop: () => Promise<void>;
  let products: TypeormProductRepository;
  let uow: TypeormUnitOfWork;

  beforeAll(async () => {
    ({ ds, drop } = await openDatabase(kind));
    products = new TypeormProductRepository(ds.getRepository(ProductEntity));
    uow = new TypeormUnitOfWork(ds);
  });
  afterAll(async () => {
    await ds?.destroy();
    await drop?.();
  });

  const stockOf = async (id: string) => (await products.findById(id))?.stock;

  /** One order's transaction: reserve, and roll back (as the orders service does) when a line failed. */
  const order = (lines: StockLine[]) =>
    uow
      .run(async (tx) => {
        const failed = await products.reserve(lines, tx);
        if (failed.length > 0)
          throw new AppError(ErrorCode.OUT_OF_STOCK, undefined, { data: { productIds: failed } });
        return 'ok' as const;
      })
      .catch((error: unknown) => {
        if (error instanceof AppError && error.code === ErrorCode.OUT_OF_STOCK) return 'refused' as const;
        throw error;
      });

  it('200 concurrent reservations of 1 unit over 50, each in its own transaction: exactly 50 succeed', async () => {
    const row = productRow({ stock: 50 });
    await products.insert(row);
    // A reader beside the writers: committed stock is never seen below zero.
    let watching = true;
    const seen: number[] = [];
    const watcher = (async () => {
      while (watching) {
        const [found] = await ds.query('SELECT stock FROM products WHERE id = ?', [row.id]);
        seen.push(Number(found.stock));
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const results = await Promise.all(
      Array.from({ length: 200 }, () => order([{ productId: row.id, quantity: 1 }])),
    );
    watching = false;
    await watcher;
    expect(results.filter((r) => r === 'ok')).toHaveLength(50);
    expect(results.filter((r) => r === 'refused')).toHaveLength(150);
    expect(await stockOf(row.id)).toBe(0);
    expect(Math.min(...seen)).toBeGreaterThanOrEqual(0);
  });

  it('orders naming the same two products in opposite orders neither deadlock nor oversell', async () => {
    const [a, b] = [productRow({ stock: 20 }), productRow({ stock: 20 })];
    await products.insert(a);
    await products.insert(b);
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        order(
          i % 2 === 0
            ? [
                { productId: a.id, quantity: 1 },
                { productId: b.id, quantity: 1 },
              ]
            : [
                { productId: b.id, quantity: 1 },
                { productId: a.id, quantity: 1 },
              ],
        ),
      ),
    );
    expect(results.filter((r) => r === 'ok')).toHaveLength(20);
    expect([await stockOf(a.id), await stockOf(b.id)]).toEqual([0, 0]);
  });

  it('names every line that could not be taken; the rollback leaves the others untouched', async () => {
    const [plenty, short, off] = [
      productRow({ stock: 10 }),
      productRow({ stock: 1 }),
      productRow({ stock: 10, status: 'off_shelf' }),
    ];
    for (const row of [plenty, short, off]) await products.insert(row);
    const unknown = productRow().id;
    let failed: string[] = [];
    await uow
      .run(async (tx) => {
        failed = await products.reserve(
          [
            { productId: plenty.id, quantity: 3 },
            { productId: short.id, quantity: 2 },
            { productId: off.id, quantity: 1 },
            { productId: unknown, quantity: 1 },
          ],
          tx,
        );
        throw new Error('roll back');
      })
      .catch(() => undefined);
    expect(failed.sort()).toEqual([short.id, off.id, unknown].sort());
    expect([await stockOf(plenty.id), await stockOf(short.id), await stockOf(off.id)]).toEqual([10, 1, 10]);
  });

  it('a committed reservation lowers the stock and moves updatedAt; release gives the units back, whatever the status', async () => {
    const old = new Date('2026-01-01T00:00:00.000Z');
    const row = productRow({ stock: 8, createdAt: old, updatedAt: old });
    await products.insert(row);
    expect(await order([{ productId: row.id, quantity: 5 }])).toBe('ok');
    const after = await products.findById(row.id);
    expect(after?.stock).toBe(3);
    expect(after!.updatedAt.getTime()).toBeGreaterThan(old.getTime());
    expect(await order([{ productId: row.id, quantity: 4 }])).toBe('refused');

    await products.update(row.id, { status: 'off_shelf' });
    await uow.run((tx) => products.release([{ productId: row.id, quantity: 5 }], tx));
    expect(await stockOf(row.id)).toBe(8);
    // A release that is rolled back gives nothing.
    await uow
      .run(async (tx) => {
        await products.release([{ productId: row.id, quantity: 5 }], tx);
        throw new Error('roll back');
      })
      .catch(() => undefined);
    expect(await stockOf(row.id)).toBe(8);
    // Off the shelf: nothing can be reserved.
    expect(await order([{ productId: row.id, quantity: 1 }])).toBe('refused');
  });

  it('refuses quantities that are not positive integers before any statement', async () => {
    const row = productRow({ stock: 5 });
    await products.insert(row);
    for (const quantity of [0, -3]) {
      await expect(uow.run((tx) => products.reserve([{ productId: row.id, quantity }], tx))).rejects.toThrow(
        'positive integer',
      );
    }
    expect(await stockOf(row.id)).toBe(5);
  });

  it('update returns the row, even when nothing changes, and null for an unknown id', async () => {
    const row = productRow({ title: 'Same' });
    await products.insert(row);
    expect((await products.update(row.id, { title: 'Same' }))?.title).toBe('Same');
    expect((await products.update(row.id, { price: 4200 }))?.price).toBe(4200);
    expect(await products.update(productRow().id, { price: 1 })).toBeNull();
  });

  it('findByIds finds any status and ignores unknown ids', async () => {
    const [a, b] = [productRow(), productRow({ status: 'off_shelf' })];
    await products.insert(a);
    await products.insert(b);
    const found = await products.findByIds([a.id, b.id, productRow().id]);
    expect(found.map((p) => p.id).sort()).toEqual([a.id, b.id].sort());
    expect(await products.findByIds([])).toEqual([]);
  });

  describe('list', () => {
    const tag = randomBytes(4).toString('hex');
    const at = (s: number) => new Date(Date.UTC(2027, 0, 1, 0, 0, s));
    const rows = [
      productRow({ title: `${tag} Coffee Beans`, createdAt: at(1) }),
      productRow({ title: `${tag} coffee grinder`, createdAt: at(3) }),
      productRow({ title: `${tag} 100% arabica`, createdAt: at(2) }),
      productRow({ title: `${tag} a_b!c tea`, createdAt: at(3), status: 'off_shelf' }),
      productRow({ title: `${tag} abxc`, createdAt: at(0) }),
    ];
    beforeAll(async () => {
      for (const row of rows) await products.insert(row);
    });
    const ids = async (q: string, status?: 'on_sale' | 'off_shelf') =>
      (await products.list({ q, status, page: 1, pageSize: 100 })).items.map((p) => p.id);

    it('newest first, ties by id, paged with the total of all matches', async () => {
      const tied = [rows[1].id, rows[3].id].sort();
      const first = await products.list({ q: tag, page: 1, pageSize: 3 });
      expect(first.total).toBe(5);
      expect(first.items.map((p) => p.id)).toEqual([...tied, rows[2].id]);
      const second = await products.list({ q: tag, page: 2, pageSize: 3 });
      expect(second.items.map((p) => p.id)).toEqual([rows[0].id, rows[4].id]);
      expect((await products.list({ q: tag, page: 3, pageSize: 3 })).items).toEqual([]);
    });

    it('q is part of the title, case-insensitive', async () => {
      expect((await ids(`${tag} COFFEE`)).sort()).toEqual([rows[0].id, rows[1].id].sort());
      expect(await ids('GRINDER')).toEqual([rows[1].id]);
      expect(await ids(`${tag.toUpperCase()} cOfFeE b`)).toEqual([rows[0].id]);
    });

    it('LIKE wildcards and the escape character in q are plain characters', async () => {
      expect(await ids(`${tag} 100%`)).toEqual([rows[2].id]);
      expect(await ids('%')).toEqual([rows[2].id]);
      expect(await ids(`${tag} a_b`)).toEqual([rows[3].id]); // not "abxc"
      expect(await ids('b!c')).toEqual([rows[3].id]);
      expect(await ids('!')).toEqual([rows[3].id]);
    });

    it('the status filter', async () => {
      expect(await ids(tag, 'off_shelf')).toEqual([rows[3].id]);
      expect(await ids(tag, 'on_sale')).not.toContain(rows[3].id);
      expect(await ids(tag, 'on_sale')).toHaveLength(4);
    });

    it('keeps the title, description and image URLs as written (Unicode included)', async () => {
      const row = productRow({
        title: `${tag} 云南咖啡 ☕`,
        description: 'línea 1\nзаписка',
        imageUrls: JSON.stringify(['https://cdn.example.com/豆.png']),
      });
      await products.insert(row);
      const [found] = (await products.list({ q: '云南咖啡', page: 1, pageSize: 10 })).items;
      expect(found).toMatchObject({
        title: row.title,
        description: row.description,
        imageUrls: row.imageUrls,
      });
      expect(found.createdAt.toISOString()).toBe(row.createdAt.toISOString());
    });
  });
});
