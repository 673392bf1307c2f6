/** The transactional outbox table every event-publishing service has in its own schema (same shape in each). */
import { sql } from 'drizzle-orm';
import { bigserial, index, jsonb, type PgSchema, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import type { EventEnvelope } from '../../contracts/events.js';

/**
 * The `outbox` table of one service's schema: a row per event, appended in the transaction of its effect and
 * published by the service's relay in `seq` order. The partial index keeps "what is left to publish" a short scan
 * however many published rows wait for the retention sweep.
 */
export function outboxTable(schema: PgSchema<string>) {
  return schema.table(
    'outbox',
    {
      /** Commit order within the service: the relay publishes in this order. */
      seq: bigserial('seq', { mode: 'number' }).primaryKey(),
      /** The envelope's CloudEvents id, sent as `Nats-Msg-Id` so a re-publish is dropped by the stream. */
      eventId: uuid('event_id').notNull().unique(),
      subject: text('subject').notNull(),
      orderId: text('order_id').notNull(),
      envelope: jsonb('envelope').$type<EventEnvelope>().notNull(),
      createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
      /**
       * W3C `traceparent` of the span that committed the event, when it was sampled: the relay's publish span is
       * its child and sends its own in the message headers, so a consumer's work joins the order's trace.
       */
      traceParent: text('trace_parent'),
      /** Set once the broker acknowledged the event; null while it waits for the relay. */
      publishedAt: timestamp('published_at', { withTimezone: true }),
    },
    (t) => [index('outbox_unpublished_idx').on(t.seq).where(sql`${t.publishedAt} is null`)],
  );
}

/** The outbox table type, identical in every service's schema. */
export type OutboxTable = ReturnType<typeof outboxTable>;
