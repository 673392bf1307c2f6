/** Tables of the payments service (Postgres schema `payments`). */
import { sql } from 'drizzle-orm';
import { bigint, check, pgSchema, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import { outboxTable } from './outbox.js';
import { sqlList } from './sql-list.js';

/** Kinds of ledger entries: money taken, money given back, or a marker that a charge must never happen. */
export const LEDGER_KINDS = ['CHARGE', 'REFUND', 'VOID'] as const;
/** One kind of ledger entry. */
export type LedgerKind = (typeof LEDGER_KINDS)[number];

/** The `payments` Postgres schema; only the payments service writes here. */
export const paymentsSchema = pgSchema('payments');

/** Append-only ledger; UNIQUE (order_id, kind) makes charge and refund idempotent under concurrent retries. */
export const ledger = paymentsSchema.table(
  'ledger',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orderId: text('order_id').notNull(),
    kind: text('kind').$type<LedgerKind>().notNull(),
    amountCents: bigint('amount_cents', { mode: 'number' }).notNull(),
    providerRef: text('provider_ref'),
    /** sha256 hex prefix of the payment token; the raw token is never stored. */
    tokenFingerprint: text('token_fingerprint'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique('ledger_order_kind_unique').on(t.orderId, t.kind),
    check('ledger_kind_check', sql`${t.kind} in (${sqlList(LEDGER_KINDS)})`),
    check('ledger_amount_cents_check', sql`${t.amountCents} >= 0`),
    // Only a hex digest fits, so a raw token can never land in this column by mistake.
    check('ledger_token_fingerprint_check', sql`${t.tokenFingerprint} ~ '^[0-9a-f]{16,64}$'`),
  ],
);

/** Events of the payments service waiting to be published, appended in the transaction of their effect. */
export const paymentsOutbox = outboxTable(paymentsSchema);
