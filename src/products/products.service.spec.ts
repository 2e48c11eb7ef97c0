import { failure, outcome } from '../../test/support/app-errors.js';
import {
  InMemoryProductRepository,
  productRow,
  RollbackAwareUnitOfWork,
} from '../../test/support/in-memory-products.js';
import { ErrorCode } from '../common/errors/error-code.js';
import type { CreateProductDto } from './dto/create-product.dto.js';
import { toProductView } from './product-view.js';
import { productRuleErrors, ProductsService, type ProductFields } from './products.service.js';

const PAGE = { page: 1, pageSize: 20 };

function world() {
  const repo = new InMemoryProductRepository();
  const uow = new RollbackAwareUnitOfWork();
  return { repo, uow, service: new ProductsService(repo) };
}

const valid: CreateProductDto = { title: 'Coffee beans 500g', price: 6800, stock: 50 };

describe('ProductsService', () => {
  it('creates with the defaults: empty description, on sale, no images; id and both times set', async () => {
    const { service, repo } = world();
    const product = await service.create(valid);
    const view = toProductView(product);
    expect(view).toMatchObject({
      title: valid.title,
      description: '',
      price: 6800,
      stock: 50,
      status: 'on_sale',
      imageUrls: [],
    });
    expect(view.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(view.createdAt).toBe(view.updatedAt);
    expect(repo.rows.get(view.id)?.imageUrls).toBe('[]');
  });

  it('keeps the image URLs in order', async () => {
    const { service } = world();
    const imageUrls = ['https://cdn.example.com/b.png', 'http://localhost:9000/a.png'];
    expect(toProductView(await service.create({ ...valid, imageUrls })).imageUrls).toEqual(imageUrls);
  });

  it.each<[string, string, Partial<ProductFields>]>([
    ['title', 'empty', { title: '' }],
    ['title', '129 characters', { title: 'x'.repeat(129) }],
    ['description', '2001 characters', { description: 'x'.repeat(2001) }],
    ['price', '0', { price: 0 }],
    ['price', '1.5', { price: 1.5 }],
    ['price', '1,000,001', { price: 1_000_001 }],
    ['stock', '-1', { stock: -1 }],
    ['stock', '1,000,001', { stock: 1_000_001 }],
    ['stock', '2.5', { stock: 2.5 }],
    ['status', 'sold_out', { status: 'sold_out' as never }],
    [
      'imageUrls',
      '10 URLs',
      { imageUrls: Array.from({ length: 10 }, (_, i) => `https://cdn.example.com/${i}.png`) },
    ],
    ['imageUrls.0', 'ftp', { imageUrls: ['ftp://cdn.example.com/a.png'] }],
    ['imageUrls.0', '1,048 characters', { imageUrls: [`https://cdn.example.com/${'a'.repeat(1024)}`] }],
  ])('refuses a product whose %s is %s with 40000, storing nothing', async (field, _what, bad) => {
    const { service, repo } = world();
    const error = await failure(service.create({ ...valid, ...bad } as CreateProductDto));
    expect(error.code).toBe(ErrorCode.VALIDATION_FAILED);
    expect((error.data?.errors as Array<{ field: string }>).map((e) => e.field)).toContain(field);
    expect(repo.rows.size).toBe(0);
  });

  it('accepts the bounds themselves', () => {
    const edge: ProductFields = {
      title: '茶'.repeat(128),
      description: '😀'.repeat(2000), // characters, not UTF-16 units, as the database counts them
      price: 1_000_000,
      stock: 0,
      status: 'off_shelf',
      imageUrls: Array.from({ length: 9 }, (_, i) => `https://cdn.example.com/${i}`.padEnd(1024, 'x')),
    };
    expect(productRuleErrors(edge)).toEqual([]);
    expect(productRuleErrors({ ...edge, price: 1 })).toEqual([]);
  });

  describe('update', () => {
    it('changes only the fields given; stock sets the available count; updatedAt moves', async () => {
      const { service, repo } = world();
      const old = new Date('2026-01-01T00:00:00.000Z');
      const row = repo.seed(productRow({ stock: 7, createdAt: old, updatedAt: old, description: 'kept' }));
      const updated = toProductView(await service.update(row.id, { stock: 3, title: 'Renamed' }));
      expect(updated).toMatchObject({ stock: 3, title: 'Renamed', description: 'kept', price: row.price });
      expect(updated.createdAt).toBe(old.toISOString());
      expect(Date.parse(updated.updatedAt)).toBeGreaterThan(old.getTime());
    });

    it('an empty or unchanged patch changes nothing, not even updatedAt', async () => {
      const { service, repo } = world();
      const old = new Date('2026-01-01T00:00:00.000Z');
      const row = repo.seed(productRow({ updatedAt: old, imageUrls: '["https://a.example/x.png"]' }));
      for (const patch of [{}, { title: row.title, imageUrls: ['https://a.example/x.png'] }]) {
        expect((await service.update(row.id, patch)).updatedAt).toEqual(old);
      }
      expect(repo.rows.get(row.id)?.updatedAt).toEqual(old);
    });

    it('refuses a result that breaks a rule, changing nothing', async () => {
      const { service, repo } = world();
      const row = repo.seed(productRow({ price: 500 }));
      expect(await outcome(service.update(row.id, { price: 0, title: 'New' }))).toBe(
        ErrorCode.VALIDATION_FAILED,
      );
      expect(repo.rows.get(row.id)).toMatchObject({ price: 500, title: row.title });
    });

    it('an unknown product is 404', async () => {
      const { service } = world();
      expect(await outcome(service.update(productRow().id, { stock: 1 }))).toBe(ErrorCode.NOT_FOUND);
    });

    it('takes a product off the shelf and back', async () => {
      const { service, repo } = world();
      const row = repo.seed(productRow());
      await service.update(row.id, { status: 'off_shelf' });
      expect(await outcome(service.getOnSale(row.id))).toBe(ErrorCode.NOT_FOUND);
      expect((await service.get(row.id)).status).toBe('off_shelf');
      await service.update(row.id, { status: 'on_sale' });
      expect(await outcome(service.getOnSale(row.id))).toBe('ok');
    });
  });

  describe('reading', () => {
    it('the public sees on-sale products only; an admin sees both, filtered by status on request', async () => {
      const { service, repo } = world();
      const on = repo.seed(productRow({ title: 'On' }));
      const off = repo.seed(productRow({ title: 'Off', status: 'off_shelf' }));
      expect(await outcome(service.getOnSale(off.id))).toBe(ErrorCode.NOT_FOUND);
      expect((await service.getOnSale(on.id)).id).toBe(on.id);
      expect((await service.listOnSale(PAGE)).items.map((p) => p.id)).toEqual([on.id]);
      expect((await service.list(PAGE)).total).toBe(2);
      expect((await service.list({ ...PAGE, status: 'off_shelf' })).items.map((p) => p.id)).toEqual([off.id]);
    });

    it('pages newest first, ties by id, with the total of all matches and the page asked for', async () => {
      const { service, repo } = world();
      const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
      const rows = [
        productRow({ createdAt: t(1) }),
        productRow({ createdAt: t(3) }),
        productRow({ createdAt: t(2) }),
        productRow({ createdAt: t(3) }),
      ];
      repo.seed(...rows);
      const tied = [rows[1], rows[3]].map((r) => r.id).sort();
      const first = await service.listOnSale({ page: 1, pageSize: 3 });
      expect(first).toMatchObject({ total: 4, page: 1, pageSize: 3 });
      expect(first.items.map((p) => p.id)).toEqual([...tied, rows[2].id]);
      expect((await service.listOnSale({ page: 2, pageSize: 3 })).items.map((p) => p.id)).toEqual([
        rows[0].id,
      ]);
      expect((await service.listOnSale({ page: 3, pageSize: 3 })).items).toEqual([]);
    });

    it('q finds part of the title, case-insensitive; an empty q is no filter', async () => {
      const { service, repo } = world();
      const beans = repo.seed(productRow({ title: 'Yunnan Coffee Beans' }));
      repo.seed(productRow({ title: 'Green tea' }));
      expect((await service.listOnSale({ ...PAGE, q: 'coffee' })).items.map((p) => p.id)).toEqual([beans.id]);
      expect((await service.listOnSale({ ...PAGE, q: 'COFFEE B' })).total).toBe(1);
      expect((await service.listOnSale({ ...PAGE, q: '' })).total).toBe(2);
    });

    it('an unknown id is 404 for admins too', async () => {
      const { service } = world();
      expect(await outcome(service.get(productRow().id))).toBe(ErrorCode.NOT_FOUND);
    });
  });
});

describe('InMemoryProductRepository (the stand-in the orders tests rely on)', () => {
  it('200 interleaved reservations of 1 over 50 units: exactly 50 succeed and stock never goes below 0', async () => {
    const { repo, uow } = world();
    const row = repo.seed(productRow({ stock: 50 }));
    let lowest = 50;
    const results = await Promise.all(
      Array.from({ length: 200 }, () =>
        uow
          .run(async (tx) => {
            await Promise.resolve(); // let the other transactions interleave
            const failed = await repo.reserve([{ productId: row.id, quantity: 1 }], tx);
            lowest = Math.min(lowest, repo.stockOf(row.id) ?? 0);
            await Promise.resolve();
            if (failed.length > 0) throw new Error('out of stock');
            return 'ok';
          })
          .catch(() => 'refused'),
      ),
    );
    expect(results.filter((r) => r === 'ok')).toHaveLength(50);
    expect(repo.stockOf(row.id)).toBe(0);
    expect(lowest).toBeGreaterThanOrEqual(0);
  });

  it('is all or none: one short line takes nothing and names only the lines that failed', async () => {
    const { repo, uow } = world();
    const a = repo.seed(productRow({ stock: 5 }));
    const b = repo.seed(productRow({ stock: 1 }));
    const off = repo.seed(productRow({ stock: 9, status: 'off_shelf' }));
    const unknown = productRow().id;
    const failed = await uow.run((tx) =>
      repo.reserve(
        [
          { productId: a.id, quantity: 2 },
          { productId: b.id, quantity: 2 },
          { productId: off.id, quantity: 1 },
          { productId: unknown, quantity: 1 },
        ],
        tx,
      ),
    );
    expect(failed.sort()).toEqual([b.id, off.id, unknown].sort());
    expect([repo.stockOf(a.id), repo.stockOf(b.id), repo.stockOf(off.id)]).toEqual([5, 1, 9]);
  });

  it('gives the units back when the transaction fails after reserving', async () => {
    const { repo, uow } = world();
    const row = repo.seed(productRow({ stock: 3 }));
    uow.failNext = new Error('insert failed');
    await expect(uow.run((tx) => repo.reserve([{ productId: row.id, quantity: 2 }], tx))).rejects.toThrow(
      'insert failed',
    );
    expect(repo.stockOf(row.id)).toBe(3);
    expect(uow.rollbacks).toBe(1);
  });

  it('release adds the units back at the commit, whatever the status; not at all on rollback', async () => {
    const { repo, uow } = world();
    const row = repo.seed(productRow({ stock: 0, status: 'off_shelf' }));
    uow.failNext = new Error('rolled back');
    await expect(uow.run((tx) => repo.release([{ productId: row.id, quantity: 4 }], tx))).rejects.toThrow();
    expect(repo.stockOf(row.id)).toBe(0);
    await uow.run((tx) => repo.release([{ productId: row.id, quantity: 4 }], tx));
    expect(repo.stockOf(row.id)).toBe(4);
  });

  it('refuses a quantity that is not a positive integer', async () => {
    const { repo, uow } = world();
    const row = repo.seed(productRow({ stock: 3 }));
    for (const quantity of [0, -1, 1.5]) {
      await expect(uow.run((tx) => repo.reserve([{ productId: row.id, quantity }], tx))).rejects.toThrow(
        'positive integer',
      );
    }
    expect(repo.stockOf(row.id)).toBe(3);
  });
});
