import { randomBytes, randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import {
  expectError,
  expectOk,
  expectValidationError,
  startHarness,
  type Harness,
  type LoginResult,
} from '../support/app-harness.js';

const API = '/api/v1';

interface Product {
  id: string;
  title: string;
  description: string;
  price: number;
  stock: number;
  status: string;
  imageUrls: string[];
  createdAt: string;
  updatedAt: string;
}

/** The contract's Product: exactly these keys, with these types. */
function expectProduct(value: unknown): Product {
  const p = value as Record<string, unknown>;
  expect(Object.keys(p).sort()).toEqual(
    ['createdAt', 'description', 'id', 'imageUrls', 'price', 'status', 'stock', 'title', 'updatedAt'].sort(),
  );
  expect(p.id).toEqual(expect.stringMatching(/^[0-9a-f-]{36}$/));
  expect(typeof p.title).toBe('string');
  expect(typeof p.description).toBe('string');
  expect(Number.isInteger(p.price)).toBe(true);
  expect(Number.isInteger(p.stock)).toBe(true);
  expect(['on_sale', 'off_shelf']).toContain(p.status);
  expect(Array.isArray(p.imageUrls)).toBe(true);
  for (const key of ['createdAt', 'updatedAt']) {
    expect(p[key]).toEqual(expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/));
  }
  return p as unknown as Product;
}

/** The contract's order: newest first, ties (same millisecond) by id. */
const newestFirst = (...products: Product[]): string[] =>
  [...products]
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((p) => p.id);

describe('products', () => {
  let h: Harness;
  let admin: LoginResult;
  let plain: LoginResult;
  const tag = `t${randomBytes(4).toString('hex')}`;

  const create = (body: unknown, who: LoginResult | null = admin): Promise<Response> => {
    const req = h.http().post(`${API}/products`);
    if (who) req.set('Authorization', who.bearer);
    return req.send(body as object);
  };
  const patch = (id: string, body: unknown, who: LoginResult | null = admin): Promise<Response> => {
    const req = h.http().patch(`${API}/products/${id}`);
    if (who) req.set('Authorization', who.bearer);
    return req.send(body as object);
  };
  const adminGet = (path: string, who: LoginResult | null = admin): Promise<Response> => {
    const req = h.http().get(`${API}/admin/products${path}`);
    if (who) req.set('Authorization', who.bearer);
    return req;
  };
  const publicGet = (path: string): Promise<Response> => h.http().get(`${API}/products${path}`);
  const made = async (body: Record<string, unknown> = {}): Promise<Product> =>
    expectProduct(expectOk(await create({ title: `${tag} item`, price: 100, stock: 5, ...body })));

  beforeAll(async () => {
    h = await startHarness();
    admin = await h.loginAdmin();
    plain = await h.login();
  });
  afterAll(async () => {
    await h?.close();
  });

  describe('admin writes', () => {
    it('creates with the defaults, answering 200 with the Product', async () => {
      const res = await create({ title: `${tag} Coffee`, price: 6800, stock: 50 });
      const product = expectProduct(expectOk(res));
      expect(product).toMatchObject({
        title: `${tag} Coffee`,
        description: '',
        price: 6800,
        stock: 50,
        status: 'on_sale',
        imageUrls: [],
      });
      expect(product.createdAt).toBe(product.updatedAt);
      expect(expectProduct(expectOk(await adminGet(`/${product.id}`)))).toEqual(product);
    });

    it('creates with every field given', async () => {
      const body = {
        title: `${tag} 云南小粒咖啡`,
        description: 'Roasted weekly.',
        price: 1_000_000,
        stock: 0,
        status: 'off_shelf',
        imageUrls: ['https://cdn.example.com/a.png', 'http://localhost:8080/b.jpg'],
      };
      expect(expectProduct(expectOk(await create(body)))).toMatchObject(body);
    });

    it('patches only the fields given; stock sets the available count', async () => {
      const product = await made({ description: 'kept', stock: 9 });
      const updated = expectProduct(expectOk(await patch(product.id, { stock: 2, price: 250 })));
      expect(updated).toMatchObject({ stock: 2, price: 250, description: 'kept', title: product.title });
      expect(updated.createdAt).toBe(product.createdAt);
      expect(Date.parse(updated.updatedAt)).toBeGreaterThanOrEqual(Date.parse(product.updatedAt));
      expect(expectProduct(expectOk(await patch(product.id, {})))).toEqual(updated);
      const images = ['https://cdn.example.com/new.png'];
      expect(expectOk(await patch(product.id, { imageUrls: images })).imageUrls).toEqual(images);
      expect(expectOk(await patch(product.id, { imageUrls: [] })).imageUrls).toEqual([]);
    });

    it('a patch of an unknown or malformed id is 404 / 40400', async () => {
      expectError(await patch(randomUUID(), { stock: 1 }), 40400);
      expectError(await patch('not-an-id', { stock: 1 }), 40400);
    });
  });

  describe('public reads', () => {
    it('lists on-sale products only, newest first; an off-shelf one is hidden and 404 for everyone', async () => {
      const older = await made({ title: `${tag} shelf older` });
      const newer = await made({ title: `${tag} shelf newer` });
      const listed = async () =>
        (expectOk(await publicGet(`?q=${encodeURIComponent(`${tag} shelf`)}`)).items as Product[]).map(
          (p) => p.id,
        );
      expect(await listed()).toEqual(newestFirst(older, newer));
      expectProduct(expectOk(await publicGet(`/${older.id}`)));

      expect(expectOk(await patch(older.id, { status: 'off_shelf' })).status).toBe('off_shelf');
      expect(await listed()).toEqual([newer.id]);
      expectError(await publicGet(`/${older.id}`), 40400);
      // Also for an admin on the public route; the admin routes still show it.
      expectError(
        await h.http().get(`${API}/products/${older.id}`).set('Authorization', admin.bearer),
        40400,
      );
      expect(expectOk(await adminGet(`/${older.id}`)).status).toBe('off_shelf');

      await patch(older.id, { status: 'on_sale' });
      expect(await listed()).toEqual(newestFirst(older, newer));
    });

    it('an unknown or malformed id is 404 / 40400', async () => {
      expectError(await publicGet(`/${randomUUID()}`), 40400);
      expectError(await publicGet('/12345'), 40400);
      expectError(await adminGet(`/${randomUUID()}`), 40400);
      expectError(await adminGet('/x'), 40400);
    });

    it('pages with total, page and pageSize; q is part of the title, case-insensitive', async () => {
      const q = `${tag}-page`;
      const all: Product[] = [];
      for (let i = 0; i < 3; i++) all.push(await made({ title: `Item ${q.toUpperCase()} ${i}` }));
      const first = expectOk(await publicGet(`?q=${q}&page=1&pageSize=2`));
      expect(first).toMatchObject({ total: 3, page: 1, pageSize: 2 });
      expect(first.items).toHaveLength(2);
      first.items.forEach(expectProduct);
      const second = expectOk(await publicGet(`?q=${q}&page=2&pageSize=2`));
      expect(second.items).toHaveLength(1);
      expect([...first.items, ...second.items].map((p: Product) => p.id)).toEqual(newestFirst(...all));
      expect(expectOk(await publicGet(`?q=${q}&page=3&pageSize=2`)).items).toEqual([]);
      const defaults = expectOk(await publicGet(''));
      expect(defaults).toMatchObject({ page: 1, pageSize: 20 });
      expect(expectOk(await publicGet('?q=%25_%25-nothing-like-this')).total).toBe(0);
    });
  });

  describe('admin list', () => {
    it('shows both statuses, newest first, and filters by status and q', async () => {
      const q = `${tag}-admin`;
      const on = await made({ title: `${q} on` });
      const off = await made({ title: `${q} off`, status: 'off_shelf' });
      const ids = async (query: string) =>
        (expectOk(await adminGet(`?q=${q}${query}`)).items as Product[]).map((p) => p.id);
      expect(await ids('')).toEqual(newestFirst(on, off));
      expect(await ids('&status=off_shelf')).toEqual([off.id]);
      expect(await ids('&status=on_sale')).toEqual([on.id]);
    });
  });

  describe('validation: 400 / 40000, nothing stored', () => {
    const valid = { title: 'x', price: 1, stock: 0 };
    it.each<[string, string, Record<string, unknown>]>([
      ['an unknown field', 'sku', { ...valid, sku: 'A1' }],
      ['price 0', 'price', { ...valid, price: 0 }],
      ['price 1.5', 'price', { ...valid, price: 1.5 }],
      ['price 1,000,001', 'price', { ...valid, price: 1_000_001 }],
      ['price as a string', 'price', { ...valid, price: '100' }],
      ['no price', 'price', { title: 'x', stock: 0 }],
      ['stock -1', 'stock', { ...valid, stock: -1 }],
      ['no title', 'title', { price: 1, stock: 0 }],
      ['an empty title', 'title', { ...valid, title: '' }],
      ['a title of 129 characters', 'title', { ...valid, title: 'x'.repeat(129) }],
      ['a description of 2001 characters', 'description', { ...valid, description: 'x'.repeat(2001) }],
      ['a null description', 'description', { ...valid, description: null }],
      ['status sold_out', 'status', { ...valid, status: 'sold_out' }],
      [
        '10 image URLs',
        'imageUrls',
        { ...valid, imageUrls: Array.from({ length: 10 }, (_, i) => `https://cdn.example.com/${i}.png`) },
      ],
      ['an ftp image URL', 'imageUrls', { ...valid, imageUrls: ['ftp://cdn.example.com/a.png'] }],
      ['an image URL that is no URL', 'imageUrls', { ...valid, imageUrls: ['beans.png'] }],
      [
        'an image URL with a space',
        'imageUrls',
        { ...valid, imageUrls: ['https://cdn.example.com/a b.png'] },
      ],
      ['an empty image URL', 'imageUrls', { ...valid, imageUrls: [''] }],
      ['an image URL that is not a string', 'imageUrls', { ...valid, imageUrls: [42] }],
      [
        'an image URL of 1025 characters',
        'imageUrls',
        { ...valid, imageUrls: [`https://a.example/${'x'.repeat(1007)}`] },
      ],
    ])('create with %s', async (_what, field, body) => {
      const title = `${tag}-invalid-${randomBytes(3).toString('hex')}`;
      expectValidationError(await create({ ...body, ...(body.title === 'x' ? { title } : {}) }), field);
      expect(expectOk(await adminGet(`?q=${title}`)).total).toBe(0);
    });

    it('patch with a bad field changes nothing', async () => {
      const product = await made({ price: 300 });
      expectValidationError(await patch(product.id, { price: 0 }), 'price');
      expectValidationError(await patch(product.id, { price: 1.5 }), 'price');
      expectValidationError(await patch(product.id, { stock: null }), 'stock');
      expectValidationError(await patch(product.id, { id: randomUUID() }), 'id');
      expect(expectOk(await adminGet(`/${product.id}`)).price).toBe(300);
    });

    it.each([
      ['status=sold_out', 'status'],
      ['status=', 'status'],
      ['page=0', 'page'],
      ['pageSize=101', 'pageSize'],
      ['pageSize=1.0', 'pageSize'],
    ])('admin list with %s', async (query, field) => {
      expectValidationError(await adminGet(`?${query}`), field);
    });

    it('the public list takes no status filter', async () => {
      expectValidationError(await publicGet('?status=off_shelf'), 'status');
      expectValidationError(await publicGet('?page=-1'), 'page');
    });
  });

  describe('access', () => {
    it('a signed-in user who is not an admin gets 403 / 40300 on every admin route', async () => {
      const product = await made();
      expectError(await create({ title: 'x', price: 1, stock: 1 }, plain), 40300);
      expectError(await patch(product.id, { stock: 0 }, plain), 40300);
      expectError(await adminGet('', plain), 40300);
      expectError(await adminGet(`/${product.id}`, plain), 40300);
      expect(expectOk(await adminGet(`/${product.id}`)).stock).toBe(product.stock);
    });

    it('no token on an admin route is 401 / 40100; the public routes need none', async () => {
      const product = await made();
      expectError(await create({ title: 'x', price: 1, stock: 1 }, null), 40100);
      expectError(await patch(product.id, { stock: 0 }, null), 40100);
      expectError(await adminGet('', null), 40100);
      expectError(await adminGet(`/${product.id}`, null), 40100);
      expectProduct(expectOk(await publicGet(`/${product.id}`)));
      expectOk(await publicGet(''));
    });
  });
});
