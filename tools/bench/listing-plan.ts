/**
 * `npm run bench:listing -- --rows 300000`: fills a throw-away Postgres database with orders and times one page of
 * each listing the API serves (admin default, a client's default, by status, by customer; first and a later page),
 * printing each query plan's access path and the median per-page time. Prints a table, asserts nothing.
 */
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import type { OrderStatus } from '../../contracts/orders.js';
import { openDatabase } from '../../db/client.js';
import { migrateDatabase } from '../../db/migrate.js';
import { listOrderRecords, type OrderListFilter } from '../../db/queries/orders.js';
import { createThrowawayPostgres } from '../../harness/throwaway-database.js';

const { values: cli } = parseArgs({
  options: {
    rows: { type: 'string', default: '300000' },
    url: {
      type: 'string',
      default: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    },
    runs: { type: 'string', default: '20' },
  },
});
const ROWS = Number(cli.rows);
const RUNS = Number(cli.runs);
const STATUSES: OrderStatus[] = ['COMPLETED', 'COMPLETED', 'COMPLETED', 'FAILED', 'CANCELLED', 'CHARGING'];

async function main(): Promise<void> {
  const database = await createThrowawayPostgres(cli.url as string, 'listing_plan');
  const handle = await openDatabase({ url: database.url, poolSize: 2 });
  try {
    await migrateDatabase(handle);
    const started = Date.now();
    // 20 clients, 5,000 customers; one row a second back from now, so created_at is distinct and ordered.
    await handle.db.execute(sql`
      insert into orders.orders (order_id, customer_id, client_id, items, total_cents, status, created_at, updated_at)
      select 'ord_' || md5(i::text), 'cust-' || (i % 5000), 'app-' || (i % 20), '[]'::jsonb, 1000,
             (array[${sql.raw(STATUSES.map((s) => `'${s}'`).join(','))}])[1 + i % ${STATUSES.length}],
             now() - make_interval(secs => i), now()
      from generate_series(1, ${ROWS}) as i`);
    await handle.db.execute(sql`analyze orders.orders`);
    console.error(`[listing] ${ROWS} rows in ${Date.now() - started} ms`);

    const cases: Array<[string, Omit<OrderListFilter, 'limit'>]> = [
      ['admin, no filter', {}],
      ['one client, no filter', { clientId: 'app-7' }],
      ['admin, status=FAILED', { status: 'FAILED' }],
      ['one client, status=FAILED', { clientId: 'app-7', status: 'FAILED' }],
      ['admin, customerId', { customerId: 'cust-42' }],
    ];
    const rows: string[] = [];
    for (const [label, filter] of cases) {
      const first = await listOrderRecords(handle.db, { ...filter, limit: 50 });
      // A later page: continue from the fifth page's end.
      let after = first.last ?? undefined;
      for (let page = 0; page < 4 && after; page += 1) {
        after = (await listOrderRecords(handle.db, { ...filter, limit: 50, after })).last ?? undefined;
      }
      const time = async (f: OrderListFilter) => {
        const samples: number[] = [];
        for (let i = 0; i < RUNS; i += 1) {
          const t = process.hrtime.bigint();
          await listOrderRecords(handle.db, f);
          samples.push(Number(process.hrtime.bigint() - t) / 1e6);
        }
        return samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)] ?? 0;
      };
      const firstMs = await time({ ...filter, limit: 50 });
      const laterMs = after ? await time({ ...filter, limit: 50, after }) : Number.NaN;
      const plan = await explain(handle.db, { ...filter, limit: 50 });
      rows.push(`| ${label} | ${plan} | ${firstMs.toFixed(2)} | ${laterMs.toFixed(2)} |`);
    }
    console.log(`\nListing at ${ROWS.toLocaleString('en')} orders (page of 50, median of ${RUNS}):\n`);
    console.log('| listing | plan (access path) | first page ms | 5th page ms |');
    console.log('|---|---|---:|---:|');
    for (const row of rows) console.log(row);
  } finally {
    await handle.close();
    await database.drop();
  }
}

/** The top access path of the listing's plan, e.g. `Index Scan using orders_client_created_idx`. */
async function explain(db: Awaited<ReturnType<typeof openDatabase>>['db'], filter: OrderListFilter) {
  const where: string[] = [];
  if (filter.clientId) where.push(`client_id = '${filter.clientId}'`);
  if (filter.status) where.push(`status = '${filter.status}'`);
  if (filter.customerId) where.push(`customer_id = '${filter.customerId}'`);
  const result = await db.execute<{ 'QUERY PLAN': string }>(
    sql.raw(
      `explain select * from orders.orders ${where.length ? `where ${where.join(' and ')}` : ''} ` +
        `order by created_at desc, order_id desc limit ${filter.limit + 1}`,
    ),
  );
  const lines = (result as unknown as Array<{ 'QUERY PLAN': string }>).map((r) => r['QUERY PLAN']);
  const scan = lines.find((line) => /Scan/.test(line)) ?? lines[0] ?? '';
  const sort = lines.some((line) => /\bSort\b/.test(line)) ? ' + Sort' : '';
  return `${scan.replace(/^[\s->]+/, '').replace(/\s+\(cost.*$/, '')}${sort}`;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
