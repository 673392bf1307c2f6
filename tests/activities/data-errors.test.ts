/**
 * Database errors leaving an activity: a value the database can never store fails at once instead of being retried
 * forever, and no failure carries the query's parameters (customer ids, reasons, items) into Temporal's history.
 */
import {
  ApplicationFailure,
  ApplicationFailureCategory,
  defaultFailureConverter,
  defaultPayloadConverter,
  ensureApplicationFailure,
} from '@temporalio/common';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DatabaseError,
  describeDatabaseError,
  INVALID_DATA,
  withDataErrorsNonRetryable,
} from '../../activities/data-errors.js';
import { createOrdersActivities } from '../../activities/orders.js';
import { openDatabase } from '../../db/client.js';
import { products, reservationItems } from '../../db/schema/inventory.js';
import {
  createTestDatabase,
  DATABASE_HOOK_TIMEOUT_MS,
  TEST_DRIVERS,
  type TestDatabase,
} from '../../harness/throwaway-database.js';
import { runActivity, uniqueId } from './helpers.js';

/** Every text a thrown error would put into a Temporal failure: messages, stacks, details, the whole cause chain. */
function failureText(error: unknown): string {
  const parts: string[] = [];
  for (let current = error, depth = 0; current && depth < 10; depth += 1) {
    const e = current as { message?: unknown; stack?: unknown; details?: unknown; cause?: unknown };
    parts.push(String(e.message), String(e.stack), JSON.stringify(e.details ?? null));
    parts.push(JSON.stringify(current, Object.getOwnPropertyNames(current)));
    current = e.cause;
  }
  parts.push(
    JSON.stringify(temporalFailure(error), (_key, value) =>
      value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : value,
    ),
  );
  return parts.join('\n');
}

/** The failure proto an activity worker records for `error` (as the SDK's activity runner converts it). */
function temporalFailure(error: unknown) {
  return defaultFailureConverter.errorToFailure(ensureApplicationFailure(error), defaultPayloadConverter);
}

async function caught(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

/** The error a one-statement activity named `activity` throws, run wrapped as the workers run it. */
function failureOf(activity: string, statement: () => Promise<unknown>): Promise<Error> {
  const wrapped = withDataErrorsNonRetryable({
    [activity]: async () => {
      await statement();
    },
  });
  return caught(runActivity(wrapped[activity] as () => Promise<void>, undefined));
}

/** A value no failure may carry: the tests put it into statements' parameters (" at " as in a stack frame). */
const SECRET = 'Zelda Quimby at 7 Compiler Lane';

/** Its stack is the new headline over the original's frames, which name code, never values. */
function expectFramesOnly(error: Error) {
  const [headline, ...frames] = (error.stack ?? '').split('\n');
  expect(headline).toBe(
    `${error instanceof ApplicationFailure ? 'ApplicationFailure' : 'DatabaseError'}: ${error.message}`,
  );
  expect(frames.length).toBeGreaterThan(0);
  for (const frame of frames) expect(frame).toMatch(/^\s+at /);
}

for (const { driver, skip } of TEST_DRIVERS) {
  describe.skipIf(skip)(`withDataErrorsNonRetryable (${driver})`, () => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await createTestDatabase(driver);
    }, DATABASE_HOOK_TIMEOUT_MS);
    afterAll(async () => database?.close(), DATABASE_HOOK_TIMEOUT_MS);

    it('makes an out-of-range value a non-retryable InvalidData failure that names no value', async () => {
      const orders = withDataErrorsNonRetryable(createOrdersActivities({ db: database.db }));
      const orderId = uniqueId('order');
      const customerId = uniqueId('cust-secret');
      const reason = `card of Zelda Quimby ${uniqueId('tag')} declined`;
      await runActivity(orders.createOrderRecord, {
        orderId,
        customerId,
        items: [{ sku: 'MUG-RED', quantity: 1, unitPriceCents: 1200 }],
        totalCents: 1200,
        createdAt: new Date().toISOString(),
      });

      // status_seq is still a 32-bit column: 2^40 is out of range (SQLSTATE 22003).
      const error = await caught(
        runActivity(orders.setOrderStatus, {
          orderId,
          status: 'FAILED',
          seq: 2 ** 40,
          failureReason: reason,
          failureCode: 'PaymentDeclined',
        }),
      );

      const text = failureText(error);
      for (const secret of [customerId, reason, 'Zelda', String(2 ** 40), 'params:', orderId]) {
        expect(text).not.toContain(secret);
      }
      expect(error).toBeInstanceOf(ApplicationFailure);
      // The failure type a saga (and an operator reading the history) sees.
      expect(INVALID_DATA).toBe('InvalidData');
      expect(error).toMatchObject({ type: INVALID_DATA, nonRetryable: true });
      expect(error.message).toContain('setOrderStatus');
      expect(error.message).toContain('SQLSTATE 22003');
      expect(error.message).toContain('orders.orders');
    });

    it('keeps a unique violation retryable, with its SQLSTATE, constraint and table but no value', async () => {
      const sku = uniqueId('SKU-secret');
      const activities = withDataErrorsNonRetryable({
        async addProduct(name: string) {
          await database.db.insert(products).values({ sku, name, priceCents: 100, available: 1 });
          await database.db.insert(products).values({ sku, name, priceCents: 100, available: 1 });
        },
      });

      const error = await caught(runActivity(activities.addProduct, 'Zelda Quimby mug'));

      const text = failureText(error);
      for (const secret of [sku, 'Zelda', 'params:']) expect(text).not.toContain(secret);
      expect(error).toBeInstanceOf(DatabaseError);
      expect(error).not.toBeInstanceOf(ApplicationFailure);
      expect(error.name).toBe('DatabaseError');
      expect(error.message).toBe(
        'addProduct: database insert on inventory.products failed: SQLSTATE 23505 (unique violation), constraint products_pkey',
      );
      // Retryable as Temporal sees it.
      expect(temporalFailure(error).applicationFailureInfo).toMatchObject({
        type: 'DatabaseError',
        nonRetryable: false,
      });
    });

    it('names the verb and table of an update, a delete, a select and a select behind a CTE, and never retries their bad data', async () => {
      const { db } = database;
      const notANumber = sql`${products.available} = ${SECRET}`;
      const cases: Array<[string, () => Promise<unknown>, string]> = [
        [
          'update',
          () =>
            db
              .update(products)
              .set({ available: 2 ** 40 })
              .where(eq(products.sku, SECRET)),
          'update on inventory.products failed: SQLSTATE 22003 (numeric value out of range)',
        ],
        [
          'delete',
          () => db.delete(products).where(notANumber),
          'delete on inventory.products failed: SQLSTATE 22P02 (invalid text representation)',
        ],
        [
          'select',
          () => db.select().from(products).where(notANumber),
          'select on inventory.products failed: SQLSTATE 22P02 (invalid text representation)',
        ],
        [
          'selectWith',
          () => {
            const stocked = db.$with('stocked').as(db.select().from(products));
            return db.with(stocked).select().from(products).where(notANumber);
          },
          'select on inventory.products failed: SQLSTATE 22P02 (invalid text representation)',
        ],
      ];
      for (const [activity, statement, what] of cases) {
        const error = await failureOf(activity, statement);
        expect(error).toBeInstanceOf(ApplicationFailure);
        expect(error).toMatchObject({ type: INVALID_DATA, nonRetryable: true });
        expect(error.message).toBe(`${activity}: database ${what}: the database rejected the data`);
        expect((error as ApplicationFailure).details).toEqual([
          expect.objectContaining({
            operation: activity === 'selectWith' ? 'select' : activity,
            table: 'products',
          }),
        ]);
        expect(failureText(error)).not.toContain(SECRET);
        expectFramesOnly(error);
      }
    });

    it('names the constraint of a foreign-key or check violation and the column of a not-null one, all retryable', async () => {
      const { db } = database;
      const cases: Array<[string, () => Promise<unknown>, string]> = [
        [
          'holdUnits',
          () => db.insert(reservationItems).values({ orderId: SECRET, sku: SECRET, quantity: 1 }),
          'insert on inventory.reservation_items failed: SQLSTATE 23503 (foreign key violation), constraint reservation_items_order_id_reservations_order_id_fk',
        ],
        [
          'addProduct',
          () => db.insert(products).values({ sku: uniqueId(SECRET), name: SECRET, priceCents: -1 }),
          'insert on inventory.products failed: SQLSTATE 23514 (check violation), constraint products_price_cents_check',
        ],
        [
          // Raw SQL the statement parser does not read: the table is the one the server names.
          'addNameless',
          () =>
            db.execute(
              sql`insert into inventory.products (sku, name, price_cents) values (${SECRET}, null, 1)`,
            ),
          'query on inventory.products failed: SQLSTATE 23502 (not-null violation), column name',
        ],
        [
          // A domain's check names the type it guards.
          'castToDomain',
          async () => {
            await db.execute(sql.raw('create domain inventory.positive_2 as integer check (value > 0)'));
            return db.execute(sql`select ${-1}::integer::inventory.positive_2 as n where ${SECRET} <> ''`);
          },
          'query failed: SQLSTATE 23514 (check violation), type positive_2, constraint positive_2_check',
        ],
        [
          // A code without a known meaning is named as it is.
          'readMissing',
          () => db.execute(sql`select * from "inventory"."missing" where sku = ${SECRET}`),
          'select on inventory.missing failed: SQLSTATE 42P01',
        ],
      ];
      for (const [activity, statement, what] of cases) {
        const error = await failureOf(activity, statement);
        expect(error).toBeInstanceOf(DatabaseError);
        expect(error.message).toBe(`${activity}: database ${what}`);
        expect(temporalFailure(error).applicationFailureInfo).toMatchObject({ nonRetryable: false });
        expect(failureText(error)).not.toContain(SECRET);
        expectFramesOnly(error);
      }
    });

    it('keeps every field of a failure the activity built around a database error, and takes the values out of its cause', async () => {
      const { db } = database;
      const fields = {
        message: 'stock ledger write failed',
        type: 'LedgerWriteFailed',
        nonRetryable: true,
        details: [{ step: 'reserveStock' }],
        nextRetryDelay: '3s',
        category: ApplicationFailureCategory.BENIGN,
      };
      const built = () =>
        db
          .update(products)
          .set({ available: 2 ** 40 })
          .where(eq(products.sku, SECRET))
          .catch((cause: Error) => {
            throw ApplicationFailure.create({ ...fields, cause });
          });
      const error = await failureOf('reserveStock', built);
      expect(error).toBeInstanceOf(ApplicationFailure);
      expect(error).toMatchObject(fields);
      expect(error.cause).toBeInstanceOf(ApplicationFailure);
      expect((error.cause as Error).message).toBe(
        'reserveStock: database update on inventory.products failed: SQLSTATE 22003 (numeric value out of range): the database rejected the data',
      );
      expect(failureText(error)).not.toContain(SECRET);

      // Without those fields the rebuilt failure has none of them either.
      const plain = await failureOf('reserveStock', () =>
        db
          .delete(products)
          .where(sql`${products.available} = ${SECRET}`)
          .catch((cause: Error) => {
            throw ApplicationFailure.create({ message: 'delete failed', cause });
          }),
      );
      expect(plain).toMatchObject({ message: 'delete failed', nonRetryable: false });
      const { type, details, nextRetryDelay, category } = plain as ApplicationFailure;
      expect({ type, details, nextRetryDelay, category }).toEqual({
        type: undefined,
        details: undefined,
        nextRetryDelay: undefined,
        category: undefined,
      });
    });
  });
}

describe('withDataErrorsNonRetryable (no database reachable)', () => {
  it('strips the parameters from a connection error wrapping a query, and keeps it retryable', async () => {
    // Nothing listens on port 1: postgres.js fails to connect, drizzle wraps it with the query and its params.
    const unreachable = await openDatabase({ url: 'postgres://postgres@127.0.0.1:1/none', poolSize: 1 });
    const customerId = uniqueId('cust-secret');
    try {
      const activities = withDataErrorsNonRetryable({
        async addProduct() {
          await unreachable.db.insert(products).values({ sku: customerId, name: 'n', priceCents: 1 });
        },
      });
      const error = await caught(runActivity(activities.addProduct, undefined));
      const text = failureText(error);
      for (const secret of [customerId, 'params:']) expect(text).not.toContain(secret);
      expect(error).toBeInstanceOf(DatabaseError);
      expect(error.message).toContain('inventory.products');
      expect(error.message).toContain('ECONNREFUSED');
    } finally {
      await unreachable.close();
    }
  });

  /** drizzle's failed-query error as another copy of drizzle (a second version in node_modules) builds it. */
  const foreignQueryError = (cause: unknown) =>
    Object.assign(
      new Error(`Failed query: insert into "orders"."orders" ("customer_id") values ($1)\nparams: ${SECRET}`),
      {
        query: 'insert into "orders"."orders" ("customer_id") values ($1)',
        params: [SECRET],
        cause,
      },
    );

  it("recognises another drizzle copy's failed query by its shape, through wrappers, and keeps only a code-shaped driver code", async () => {
    // postgres.js's own code for a connection that timed out: five of its letters are no SQLSTATE.
    const reset = Object.assign(new Error(`socket of ${SECRET} timed out`), { code: 'CONNECT_TIMEOUT' });
    const wrapped = new Error('write failed', {
      cause: new Error('retry gave up', { cause: foreignQueryError(reset) }),
    });
    const error = await failureOf('createOrderRecord', () => Promise.reject(wrapped));
    expect(error).toBeInstanceOf(DatabaseError);
    expect(error.message).toBe('createOrderRecord: database insert on orders.orders failed: CONNECT_TIMEOUT');
    expect(failureText(error)).not.toContain(SECRET);
    expectFramesOnly(error);

    // A code that is not an identifier may be a value: it is left out.
    for (const code of [`ECONNRESET ${SECRET}`, `${SECRET} ECONNRESET`]) {
      const odd = await failureOf('createOrderRecord', () =>
        Promise.reject(foreignQueryError(Object.assign(new Error('lost'), { code }))),
      );
      expect(odd.message).toBe('createOrderRecord: database insert on orders.orders failed: no SQLSTATE');
      expect(failureText(odd)).not.toContain(SECRET);
    }
  });

  it('keeps only names that are identifiers, from the statement and from the server', async () => {
    const odd = await failureOf('act', () =>
      Promise.reject(
        Object.assign(foreignQueryError(undefined), {
          query: `delete from "${SECRET}"."${SECRET}" where "id" = $1`,
          cause: { code: '23503', table: 'shipments_2026', column: SECRET, constraint: `${SECRET}_fk` },
        }),
      ),
    );
    expect(odd.message).toBe(
      'act: database delete on shipments_2026 failed: SQLSTATE 23503 (foreign key violation)',
    );
    expect(failureText(odd)).not.toContain(SECRET);

    // The server never answered: only the statement could name the table, and it does not name one safely.
    const unanswered = await failureOf('act', () =>
      Promise.reject(
        Object.assign(foreignQueryError(Object.assign(new Error('reset'), { code: 'ECONNRESET' })), {
          query: `update "${SECRET}" set "id" = $1`,
        }),
      ),
    );
    expect(unanswered.message).toBe('act: database update failed: ECONNRESET');
    expect(failureText(unanswered)).not.toContain(SECRET);
  });

  it('reads a failed query thrown as a plain object, whose stack is then only the headline', async () => {
    const thrown = {
      message: `Failed query: update "orders"."orders" set "reason" = $1\nparams: ${SECRET}`,
      query: 'update "orders"."orders" set "reason" = $1',
      params: [SECRET],
    };
    const error = await failureOf('act', () => Promise.reject(thrown));
    expect(error).toBeInstanceOf(DatabaseError);
    expect(error.stack).toBe('DatabaseError: act: database update on orders.orders failed: no SQLSTATE');
  });

  it('passes an error through unchanged when it only looks partly like a failed query, or its causes form a cycle', async () => {
    const notDrizzle = [
      // A query and params, but not drizzle's message.
      Object.assign(new Error('validation failed'), { query: 'select 1', params: [] }),
      // drizzle's message and a query, but no params.
      Object.assign(new Error('Failed query: select 1'), { query: 'select 1' }),
      // Its message and params, but no query text.
      Object.assign(new Error('Failed query: select 1'), { query: 42, params: [] }),
      // A query and params on something whose message is not text.
      { query: 'select 1', params: [], message: 42 },
    ];
    const cyclic = new Error('loops');
    Object.assign(cyclic, { cause: new Error('and loops', { cause: cyclic }) });
    for (const thrown of [...notDrizzle, cyclic]) {
      const wrapped = withDataErrorsNonRetryable({ act: () => Promise.reject(thrown) });
      expect(await runActivity(wrapped.act, undefined).catch((error: unknown) => error)).toBe(thrown);
    }
  });

  it('stops following a cause chain after ten errors', async () => {
    const buried = (depth: number): Error => {
      let error: Error = foreignQueryError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }));
      for (let i = 1; i < depth; i += 1) error = new Error(`layer ${i}`, { cause: error });
      return error;
    };
    expect(await failureOf('act', () => Promise.reject(buried(10)))).toBeInstanceOf(DatabaseError);
    const tooDeep = buried(11);
    expect(await failureOf('act', () => Promise.reject(tooDeep))).toBe(tooDeep);
  });

  it('leaves a failure the activity built around something else as it is', async () => {
    const built = [
      ApplicationFailure.create({ message: 'no cause', type: 'OutOfStock', nonRetryable: true }),
      ApplicationFailure.create({ message: 'other cause', cause: new Error(`card of ${SECRET}`) }),
    ];
    for (const failure of built) expect(await failureOf('act', () => Promise.reject(failure))).toBe(failure);
  });

  it('describes what it knows: the qualified table, the column, its type and the constraint', () => {
    expect(
      describeDatabaseError('act', {
        operation: 'update',
        schema: 'orders',
        table: 'orders',
        code: '22001',
        column: 'reason',
        dataType: 'varchar',
        constraint: 'orders_reason_check',
      }),
    ).toBe(
      'act: database update on orders.orders failed: SQLSTATE 22001 (value too long), column reason, type varchar, constraint orders_reason_check',
    );
    expect(describeDatabaseError('act', { table: 'orders' })).toBe(
      'act: database query on orders failed: no SQLSTATE',
    );
    expect(describeDatabaseError('act', {})).toBe('act: database query failed: no SQLSTATE');
  });

  it('lets other errors through unchanged (they stay retryable)', async () => {
    const failing = withDataErrorsNonRetryable({
      async flaky() {
        throw new Error('connection reset');
      },
    });
    await expect(failing.flaky()).rejects.toThrow('connection reset');
  });
});
