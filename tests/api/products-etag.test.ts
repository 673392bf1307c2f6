/**
 * Optimistic concurrency on the catalog over HTTP (`app.request()`, real database): `ETag` on reads and writes,
 * `If-Match` updates that bump the version atomically, `412` for a stale tag, `428` for an overwrite without one.
 */
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app.js';
import { loadConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import { putProduct } from '../../db/queries/catalog.js';
import {
  createTestDatabase,
  DATABASE_HOOK_TIMEOUT_MS,
  TEST_DRIVERS,
  type TestDatabase,
} from '../../harness/throwaway-database.js';
import { bodyOf } from '../security/test-app.js';
import { ADMIN_KEY, AUTH_ENV, CLIENT_KEY } from './http.js';

const body = (available: number, priceCents = 1299) => ({ name: 'Red mug', priceCents, available });

for (const { driver, skip } of TEST_DRIVERS) {
  describe.skipIf(skip)(`product ETags and If-Match (${driver})`, () => {
    let database: TestDatabase;
    let app: ReturnType<typeof createApp>;

    beforeAll(async () => {
      database = await createTestDatabase(driver);
      const config = loadConfig({ ...AUTH_ENV, API_CURSOR_SECRET: 'a-cursor-secret-for-tests' });
      app = createApp({
        temporal: new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) }),
        db: database.db,
        pingDatabase: () => database.ping(),
        auth: config.auth,
        logger: createLogger('products-etag-test', 'silent', { write: () => {} }),
        settings: config.api,
      });
    }, DATABASE_HOOK_TIMEOUT_MS);
    afterAll(async () => {
      await database?.close();
    }, DATABASE_HOOK_TIMEOUT_MS);

    const put = (sku: string, json: unknown, headers: Record<string, string> = {}) =>
      app.request(`/v1/products/${sku}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json', ...headers },
        body: JSON.stringify(json),
      });
    const get = (sku: string) =>
      app.request(`/v1/products/${sku}`, { headers: { authorization: `Bearer ${CLIENT_KEY}` } });
    const slugOf = async (res: Response) =>
      String((await bodyOf(res)).type)
        .split('/')
        .pop();

    it('two writers with the same ETag: one wins, the other gets 412 and the stock is the winner`s', async () => {
      const created = await put('ETAG-RACE', body(10));
      expect(created.status).toBe(201);
      expect(created.headers.get('etag')).toBe('"v1"');
      const read = await get('ETAG-RACE');
      expect(read.status).toBe(200);
      const etag = read.headers.get('etag') as string;
      expect(etag).toBe('"v1"');
      expect(await bodyOf(read)).toMatchObject({ sku: 'ETAG-RACE', available: 10, version: 1 });

      // Both read v1; both write at once.
      const [a, b] = await Promise.all([
        put('ETAG-RACE', body(111), { 'if-match': etag }),
        put('ETAG-RACE', body(222), { 'if-match': etag }),
      ]);
      const statuses = [a.status, b.status].sort();
      expect(statuses).toEqual([200, 412]);
      const [winner, loser] = a.status === 200 ? [a, b] : [b, a];
      const won = await bodyOf(winner);
      expect(winner.headers.get('etag')).toBe('"v2"');
      expect(won.version).toBe(2);

      expect(loser.headers.get('content-type')).toContain('application/problem+json');
      const problem = await bodyOf(loser);
      expect(problem.type).toBe('https://order-saga.dev/problems/precondition-failed');
      expect(problem.status).toBe(412);
      expect(loser.headers.get('etag')).toBe('"v2"');

      const after = await get('ETAG-RACE');
      expect(after.headers.get('etag')).toBe('"v2"');
      expect((await bodyOf(after)).available).toBe(won.available);

      // A stale ETag stays stale; the current one works and bumps again.
      expect((await put('ETAG-RACE', body(5), { 'if-match': '"v1"' })).status).toBe(412);
      const next = await put('ETAG-RACE', body(5), { 'if-match': '"v2"' });
      expect(next.status).toBe(200);
      expect(next.headers.get('etag')).toBe('"v3"');
    });

    it('many writers holding the same version: exactly one update lands (no read-then-write race)', async () => {
      await put('ETAG-MANY', body(1));
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          putProduct(database.db, { sku: 'ETAG-MANY', ...body(100 + i) }, { kind: 'version', versions: [1] }),
        ),
      );
      const wins = results.filter((r) => r.outcome === 'updated');
      expect(wins).toHaveLength(1);
      expect(results.filter((r) => r.outcome === 'precondition-failed')).toHaveLength(7);
      const stored = await bodyOf(get('ETAG-MANY'));
      expect(stored.version).toBe(2);
      expect(wins[0]?.outcome === 'updated' && wins[0].product.available).toBe(stored.available);
    });

    it('without If-Match: creating is fine, overwriting an existing product is 428; If-Match: * overwrites', async () => {
      expect((await put('ETAG-NOIF', body(3))).status).toBe(201);
      const refused = await put('ETAG-NOIF', body(4));
      expect(refused.status).toBe(428);
      expect(await slugOf(refused)).toBe('precondition-required');
      expect(refused.headers.get('etag')).toBe('"v1"');
      expect((await bodyOf(get('ETAG-NOIF'))).available).toBe(3);

      const forced = await put('ETAG-NOIF', body(4), { 'if-match': '*' });
      expect(forced.status).toBe(200);
      expect(forced.headers.get('etag')).toBe('"v2"');
      // A list of tags matches any of them; weak and foreign tags never do.
      expect((await put('ETAG-NOIF', body(5), { 'if-match': '"v1", "v2"' })).status).toBe(200);
      expect((await put('ETAG-NOIF', body(6), { 'if-match': 'W/"v3"' })).status).toBe(412);
      expect((await put('ETAG-NOIF', body(6), { 'if-match': '"abc"' })).status).toBe(412);
      expect((await bodyOf(get('ETAG-NOIF'))).available).toBe(5);
    });

    it('If-Match for a missing product, If-None-Match: * for an existing one are 412; malformed headers 400', async () => {
      const missing = await put('ETAG-GHOST', body(1), { 'if-match': '*' });
      expect(missing.status).toBe(412);
      expect(missing.headers.get('etag')).toBeNull();
      expect((await put('ETAG-GHOST', body(1), { 'if-match': '"v1"' })).status).toBe(412);
      expect((await get('ETAG-GHOST')).status).toBe(404);

      expect((await put('ETAG-ONCE', body(1), { 'if-none-match': '*' })).status).toBe(201);
      const again = await put('ETAG-ONCE', body(2), { 'if-none-match': '*' });
      expect(again.status).toBe(412);
      expect(await slugOf(again)).toBe('precondition-failed');

      for (const headers of [
        { 'if-match': 'v1' },
        { 'if-match': '"v1' },
        { 'if-none-match': '"v1"' },
      ] as Array<Record<string, string>>) {
        const res = await put('ETAG-ONCE', body(9), headers);
        expect(res.status, JSON.stringify(headers)).toBe(400);
        expect(await slugOf(res)).toBe('invalid-parameter');
      }
      expect((await bodyOf(get('ETAG-ONCE'))).available).toBe(1);
    });

    it('the listing carries each product`s version; GET of an unknown SKU is 404', async () => {
      await put('ETAG-LIST', body(7));
      const list = await bodyOf(
        app.request('/v1/products', { headers: { authorization: `Bearer ${CLIENT_KEY}` } }),
      );
      expect(list.items).toContainEqual(expect.objectContaining({ sku: 'ETAG-LIST', version: 1 }));
      const unknown = await get('NOPE-404');
      expect(unknown.status).toBe(404);
      expect(await slugOf(unknown)).toBe('not-found');
      // The item route has GET (and HEAD) as well as PUT now.
      const remove = await app.request('/v1/products/ETAG-LIST', {
        method: 'DELETE',
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      });
      expect(remove.status).toBe(405);
      expect(remove.headers.get('allow')).toBe('GET, HEAD, PUT');
    });

    it('the OpenAPI document describes ETag, If-Match, If-None-Match, 412 and 428', async () => {
      const doc = await bodyOf(app.request('/openapi.json'));
      const putOp = doc.paths['/v1/products/{sku}'].put;
      const headerParams = putOp.parameters
        .filter((p: { in: string }) => p.in === 'header')
        .map((p: { name: string }) => p.name.toLowerCase());
      expect(headerParams).toEqual(expect.arrayContaining(['if-match', 'if-none-match']));
      for (const status of ['200', '201', '428']) expect(putOp.responses[status].headers.ETag).toBeDefined();
      expect(
        putOp.responses['412'].content['application/problem+json'].examples['precondition-failed'],
      ).toBeDefined();
      expect(
        putOp.responses['428'].content['application/problem+json'].examples['precondition-required'],
      ).toBeDefined();
      expect(doc.paths['/v1/products/{sku}'].get.responses['200'].headers.ETag).toBeDefined();
      expect(doc.components.schemas.Product.required).toContain('version');
    });
  });
}
