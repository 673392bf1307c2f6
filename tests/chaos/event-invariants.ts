/**
 * The promises the events make, checked after a chaos run: every outbox row reached ORDER_EVENTS exactly once,
 * the events agree with the money and the states in the tables, and the notifications service (which knows only
 * the events) told every customer what happened to their order, with nothing dead-lettered.
 */
import { type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type postgres from 'postgres';
import { NOTIFICATIONS_CONSUMER } from '../../consumers/notifications/handler.js';
import { DEAD_LETTER_STREAM, EVENT_SERVICES, ORDER_EVENTS_STREAM } from '../../contracts/events.js';
import { ORDER_EVENTS_SUBJECTS } from '../../events/streams.js';
import { readStored, type StoredEvent } from '../events/order-stream.js';
import type { InvariantResult } from './invariants.js';
import { sleep } from './load.js';

/** The name of each event invariant, as the report's table and the suite's tests call it. */
export const EVENT_INVARIANTS = {
  published: 'every outbox row published once the relays drained (nothing left behind)',
  exactlyOnce: 'every outbox event is in ORDER_EVENTS exactly once, and nothing else is',
  agree: 'per order: charges, refunds and the terminal state match its events',
  notified: 'per terminal order: one notification of its end (and of its refund), none missing',
  noDeadLetters: 'no event dead-lettered',
} as const;

interface OutboxRow {
  service: string;
  event_id: string;
  subject: string;
  order_id: string;
  published: boolean;
}

interface OrderFacts {
  order_id: string;
  status: string;
  charges: number;
  refunds: number;
}

const TERMINAL_EVENT: Record<string, string> = {
  COMPLETED: 'OrderCompleted',
  FAILED: 'OrderFailed',
  CANCELLED: 'OrderCancelled',
};

async function outboxRows(sql: postgres.Sql): Promise<OutboxRow[]> {
  const rows: OutboxRow[] = [];
  for (const service of EVENT_SERVICES) {
    const table = sql(`${service}.outbox`);
    const found = (await sql`select event_id::text as event_id, subject, order_id,
        published_at is not null as published from ${table} order by seq`) as unknown as Omit<
      OutboxRow,
      'service'
    >[];
    rows.push(...found.map((row) => ({ service, ...row })));
  }
  return rows;
}

async function backlog(
  sql: postgres.Sql,
  jsm: JetStreamManager,
): Promise<{ unpublished: number; unconsumed: number }> {
  let unpublished = 0;
  for (const service of EVENT_SERVICES) {
    const [row] =
      await sql`select count(*)::int as n from ${sql(`${service}.outbox`)} where published_at is null`;
    unpublished += (row as { n: number }).n;
  }
  const info = await jsm.consumers.info(ORDER_EVENTS_STREAM, NOTIFICATIONS_CONSUMER);
  return { unpublished, unconsumed: info.num_pending + info.num_ack_pending };
}

/** How long the event side took to settle after the orders ended, and what was still left if it did not. */
export interface EventSettle {
  seconds: number;
  unpublished: number;
  unconsumed: number;
}

/**
 * Waits (at most `timeoutSeconds`) until every outbox row is published and the notifications durable has nothing
 * pending or unacknowledged, then checks the event invariants.
 */
export async function checkEventInvariants(
  sql: postgres.Sql,
  natsUrl: string,
  timeoutSeconds: number,
): Promise<{ settle: EventSettle; results: InvariantResult[] }> {
  const nc = await connect({ servers: natsUrl, name: 'chaos-invariants' });
  try {
    const jsm = await jetstreamManager(nc);
    const started = Date.now();
    let left = await backlog(sql, jsm);
    while ((left.unpublished > 0 || left.unconsumed > 0) && Date.now() - started < timeoutSeconds * 1000) {
      await sleep(500);
      left = await backlog(sql, jsm);
    }
    const settle = { seconds: (Date.now() - started) / 1000, ...left };

    const outbox = await outboxRows(sql);
    const stored = await readStored(jetstream(nc), jsm, ORDER_EVENTS_SUBJECTS);
    const deadLetters = (await jsm.streams.info(DEAD_LETTER_STREAM)).state.messages;
    const facts = (await sql`
      select o.order_id, o.status,
        (select count(*) from payments.ledger l where l.order_id = o.order_id and l.kind = 'CHARGE')::int as charges,
        (select count(*) from payments.ledger l where l.order_id = o.order_id and l.kind = 'REFUND')::int as refunds
      from orders.orders o`) as unknown as OrderFacts[];
    const notified = (await sql`select order_id, kind from notifications.notifications`) as unknown as Array<{
      order_id: string;
      kind: string;
    }>;
    return {
      settle,
      results: [
        publishedResult(outbox),
        exactlyOnceResult(outbox, stored),
        agreeResult(facts, stored),
        notifiedResult(facts, notified),
        {
          name: EVENT_INVARIANTS.noDeadLetters,
          checked: stored.length,
          violations: deadLetters > 0 ? [`${deadLetters} messages in ${DEAD_LETTER_STREAM}`] : [],
        },
      ],
    };
  } finally {
    await nc.close();
  }
}

function publishedResult(outbox: OutboxRow[]): InvariantResult {
  return {
    name: EVENT_INVARIANTS.published,
    checked: outbox.length,
    violations: outbox
      .filter((row) => !row.published)
      .map((row) => `${row.service} ${row.event_id}: ${row.subject}`),
  };
}

function exactlyOnceResult(outbox: OutboxRow[], stored: StoredEvent[]): InvariantResult {
  const copies = new Map<string, StoredEvent[]>();
  for (const event of stored) {
    const id = event.msgId ?? `(no Nats-Msg-Id) seq ${event.streamSeq}`;
    copies.set(id, [...(copies.get(id) ?? []), event]);
  }
  const violations: string[] = [];
  const recorded = new Set<string>();
  for (const row of outbox) {
    recorded.add(row.event_id);
    const found = copies.get(row.event_id) ?? [];
    if (found.length !== 1)
      violations.push(`${row.event_id} (${row.subject}): ${found.length} copies in the stream`);
    else if (found[0]?.subject !== row.subject || found[0]?.envelope.id !== row.event_id) {
      violations.push(
        `${row.event_id}: stored as ${found[0]?.subject} with envelope id ${found[0]?.envelope.id}`,
      );
    }
  }
  for (const [id, events] of copies) {
    if (!recorded.has(id)) violations.push(`${id} (${events[0]?.subject}): in the stream, in no outbox`);
  }
  return { name: EVENT_INVARIANTS.exactlyOnce, checked: outbox.length, violations };
}

/** `events.<service>.<Event>.<orderId>` → counts of each event name per order. */
function eventCounts(stored: StoredEvent[]): Map<string, Map<string, number>> {
  const perOrder = new Map<string, Map<string, number>>();
  for (const event of stored) {
    const [, , name = '', orderId = ''] = event.subject.split('.');
    const counts = perOrder.get(orderId) ?? new Map<string, number>();
    counts.set(name, (counts.get(name) ?? 0) + 1);
    perOrder.set(orderId, counts);
  }
  return perOrder;
}

function agreeResult(facts: OrderFacts[], stored: StoredEvent[]): InvariantResult {
  const perOrder = eventCounts(stored);
  const violations: string[] = [];
  for (const order of facts) {
    const counts = perOrder.get(order.order_id) ?? new Map<string, number>();
    const n = (name: string) => counts.get(name) ?? 0;
    const wrong: string[] = [];
    if (n('OrderPlaced') !== 1) wrong.push(`OrderPlaced ×${n('OrderPlaced')}`);
    if (n('PaymentCharged') !== order.charges)
      wrong.push(`PaymentCharged ×${n('PaymentCharged')} vs ${order.charges} charges`);
    if (n('PaymentRefunded') !== order.refunds) {
      wrong.push(`PaymentRefunded ×${n('PaymentRefunded')} vs ${order.refunds} refunds`);
    }
    for (const [status, name] of Object.entries(TERMINAL_EVENT)) {
      const expected = order.status === status ? 1 : 0;
      if (n(name) !== expected) wrong.push(`${name} ×${n(name)} for a ${order.status} order`);
    }
    if (wrong.length > 0) violations.push(`${order.order_id}: ${wrong.join(', ')}`);
  }
  const known = new Set(facts.map((order) => order.order_id));
  for (const orderId of perOrder.keys()) {
    if (!known.has(orderId)) violations.push(`${orderId}: events of an order that has no row`);
  }
  return { name: EVENT_INVARIANTS.agree, checked: facts.length, violations };
}

function notifiedResult(
  facts: OrderFacts[],
  notified: Array<{ order_id: string; kind: string }>,
): InvariantResult {
  const kinds = new Map<string, string[]>();
  for (const row of notified) kinds.set(row.order_id, [...(kinds.get(row.order_id) ?? []), row.kind]);
  const violations: string[] = [];
  let checked = 0;
  for (const order of facts) {
    const end = TERMINAL_EVENT[order.status];
    if (!end) continue;
    checked++;
    const expected = [end, ...(order.refunds > 0 ? ['PaymentRefunded'] : [])].sort();
    const got = [...(kinds.get(order.order_id) ?? [])].sort();
    if (got.join(',') !== expected.join(',')) {
      violations.push(
        `${order.order_id} ${order.status}: notified [${got.join(', ')}], expected [${expected.join(', ')}]`,
      );
    }
  }
  return { name: EVENT_INVARIANTS.notified, checked, violations };
}
