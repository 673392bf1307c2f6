/**
 * The events pair of `npm run bench`, read after the run from the bench's database and the ORDER_EVENTS stream:
 * the outbox rows the orders wrote, when each event committed (outbox `created_at`), when the stream stored it
 * (the message's timestamp) and when the notifications service handled it (`sent_at`). No timer in any service:
 * every instant is a Postgres or a JetStream timestamp, both on this host's clock.
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { Sql } from 'postgres';
import { EVENT_SERVICES, ORDER_EVENTS_STREAM } from '../../contracts/events.js';
import { percentile } from './stats.js';

/** The outbox table of each saga service, one per schema. */
const OUTBOXES = EVENT_SERVICES.map((service) => `${service}.outbox`);

/** The event whose notification closes the commit-to-consumed path of a completed order. */
const COMPLETED_SUBJECT_PREFIX = 'events.orders.OrderCompleted.';

/** How many outbox rows `orderIds` wrote across the four services, and how many of them were published. */
export async function outboxCounts(
  sql: Sql,
  orderIds: string[],
): Promise<{ rows: number; published: number }> {
  const union = OUTBOXES.map(
    (table) => `select published_at from ${table} where order_id = any($1::text[])`,
  ).join(' union all ');
  const [row] = await sql.unsafe<{ rows: number; published: number }[]>(
    `select count(*)::int as rows, count(published_at)::int as published from (${union}) as rows`,
    [orderIds],
  );
  return { rows: row?.rows ?? 0, published: row?.published ?? 0 };
}

/**
 * Deletes every unpublished outbox row (the events-off orders' and the direct mode's), so the relays that start
 * with NATS_URL do not drain that backlog while the events-on saga is measured. Returns how many went.
 */
export async function discardUnpublished(sql: Sql): Promise<number> {
  let deleted = 0;
  for (const table of OUTBOXES) {
    const result = await sql.unsafe(`delete from ${table} where published_at is null`);
    deleted += result.count;
  }
  return deleted;
}

/**
 * Waits until no outbox row is left to publish and every one of `orderIds` has its OrderCompleted notification:
 * the relays and the consumer finished the window's work. Throws after `timeoutMs`.
 */
export async function waitForDrain(sql: Sql, orderIds: string[], timeoutMs = 60_000): Promise<void> {
  const unpublished = OUTBOXES.map(
    (table) => `(select count(*) from ${table} where published_at is null)`,
  ).join(' + ');
  const query = `select (${unpublished})::int as unpublished,
    (select count(*) from notifications.notifications
      where kind = 'OrderCompleted' and order_id = any($1::text[]))::int as notified`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [state] = await sql.unsafe<{ unpublished: number; notified: number }[]>(query, [orderIds]);
    if (state && state.unpublished === 0 && state.notified >= orderIds.length) return;
    if (Date.now() > deadline) {
      throw new Error(
        `events did not drain in ${timeoutMs} ms: ${state?.unpublished} outbox rows unpublished, ` +
          `${state?.notified} of ${orderIds.length} OrderCompleted notifications`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** When ORDER_EVENTS stored each message (epoch ms), by its Nats-Msg-Id (the event id); headers only. */
export async function storedTimes(natsUrl: string): Promise<Map<string, number>> {
  const nc = await connect({ servers: natsUrl, name: 'bench' });
  try {
    const jsm = await jetstreamManager(nc);
    let left = (await jsm.streams.info(ORDER_EVENTS_STREAM)).state.messages;
    const consumer = await jetstream(nc).consumers.get(ORDER_EVENTS_STREAM, { headers_only: true });
    const times = new Map<string, number>();
    while (left > 0) {
      const batch = await consumer.fetch({ max_messages: Math.min(left, 1_000), expires: 5_000 });
      let got = 0;
      for await (const message of batch) {
        got += 1;
        left -= 1;
        const id = message.headers?.get('Nats-Msg-Id');
        if (id) times.set(id, Number(message.timestampNanos / 1_000n) / 1_000);
        if (message.info.pending === 0) left = 0;
        if (left === 0) break;
      }
      if (got === 0) break;
    }
    return times;
  } finally {
    await nc.close();
  }
}

/** A distribution of latencies: how many, p50 and p99 in ms. */
export interface Spread {
  count: number;
  p50: number;
  p99: number;
}

/** The event latencies of one events-on window. */
export interface EventLatencyRow {
  load: string;
  orders: number;
  /** OrderCompleted: outbox created_at → stored in the stream. */
  completedPublished: Spread;
  /** OrderCompleted: outbox created_at → its notification's sent_at. */
  completedConsumed: Spread;
  /** Every event of the window's orders, all four outboxes: created_at → stored in the stream. */
  allPublished: Spread;
  /** Events of these orders not in the stream, completed orders without a notification: both should be 0. */
  unpublished: number;
  unnotified: number;
}

const spread = (values: number[]): Spread => ({
  count: values.length,
  p50: percentile(values, 50),
  p99: percentile(values, 99),
});

/** Commit → published and commit → consumed for the orders of each window (the stream read once for all). */
export async function eventLatencies(
  sql: Sql,
  natsUrl: string,
  windows: { load: string; orderIds: string[] }[],
): Promise<EventLatencyRow[]> {
  const stored = await storedTimes(natsUrl);
  const rows: EventLatencyRow[] = [];
  for (const { load, orderIds } of windows) {
    const union = OUTBOXES.map(
      (table) => `select event_id::text as id, subject, order_id,
        extract(epoch from created_at)::float8 * 1000 as created_ms
        from ${table} where order_id = any($1::text[])`,
    ).join(' union all ');
    const events = await sql.unsafe<{ id: string; subject: string; order_id: string; created_ms: number }[]>(
      union,
      [orderIds],
    );
    const notified = await sql.unsafe<{ order_id: string; sent_ms: number }[]>(
      `select order_id, extract(epoch from sent_at)::float8 * 1000 as sent_ms
        from notifications.notifications where kind = 'OrderCompleted' and order_id = any($1::text[])`,
      [orderIds],
    );
    const sentAt = new Map(notified.map((n) => [n.order_id, n.sent_ms]));
    const all: number[] = [];
    const published: number[] = [];
    const consumed: number[] = [];
    let unpublished = 0;
    let unnotified = 0;
    for (const event of events) {
      const at = stored.get(event.id);
      if (at === undefined) unpublished += 1;
      else all.push(at - event.created_ms);
      if (!event.subject.startsWith(COMPLETED_SUBJECT_PREFIX)) continue;
      if (at !== undefined) published.push(at - event.created_ms);
      const sent = sentAt.get(event.order_id);
      if (sent === undefined) unnotified += 1;
      else consumed.push(sent - event.created_ms);
    }
    rows.push({
      load,
      orders: orderIds.length,
      completedPublished: spread(published),
      completedConsumed: spread(consumed),
      allPublished: spread(all),
      unpublished,
      unnotified,
    });
  }
  return rows;
}

/** The commit → published / consumed table of the events-on windows. */
export function renderLatencyTable(rows: EventLatencyRow[]): string {
  const f = (n: number) => (Number.isNaN(n) ? '' : n.toFixed(0));
  const pair = (s: Spread) => `${f(s.p50)} / ${f(s.p99)}`;
  const lines = [
    '| events on | orders | OrderCompleted commit → published p50 / p99 ms | OrderCompleted commit → consumed p50 / p99 ms | all events commit → published p50 / p99 ms | events | not published / not notified |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.load} | ${r.orders} | ${pair(r.completedPublished)} | ${pair(r.completedConsumed)} | ${pair(r.allPublished)} | ${r.allPublished.count} | ${r.unpublished} / ${r.unnotified} |`,
    );
  }
  return lines.join('\n');
}
