/**
 * A span per database transaction, with how many statements it ran: neither driver (postgres.js, PGlite) has
 * OpenTelemetry instrumentation, so the one place every activity's and consumer's work passes through,
 * `db.transaction`, is wrapped. Only inside a recording span (a traced activity or event): otherwise, and with
 * tracing off, the call goes straight through.
 */
import { context, createContextKey, SpanKind, trace } from '@opentelemetry/api';
import type { Logger as DrizzleLogger } from 'drizzle-orm/logger';
import { inSpan, TRACER_NAME } from '../core/trace-context.js';
import type { Database } from './client.js';

const STATEMENTS = createContextKey('order-saga.db.statements');

/** Counts the statements run inside a traced transaction (drizzle calls it for every query it sends). */
export const statementCounter: DrizzleLogger = {
  logQuery() {
    const counter = context.active().getValue(STATEMENTS) as { n: number } | undefined;
    if (counter) counter.n++;
  },
};

/** Replaces `db.transaction` with one that records a `TRANSACTION` CLIENT span around the original. */
export function traceTransactions(db: Database, namespace: string): void {
  const original = db.transaction.bind(db) as (...args: unknown[]) => Promise<unknown>;
  const attributes = {
    'db.system': 'postgresql',
    'db.namespace': namespace,
    'db.operation.name': 'TRANSACTION',
  };
  const traced = (...args: unknown[]) => {
    if (!trace.getSpan(context.active())?.isRecording()) return original(...args);
    return trace
      .getTracer(TRACER_NAME)
      .startActiveSpan('TRANSACTION', { kind: SpanKind.CLIENT, attributes }, (span) => {
        const counter = { n: 0 };
        return inSpan(span, async () => {
          try {
            return await context.with(context.active().setValue(STATEMENTS, counter), () =>
              original(...args),
            );
          } finally {
            span.setAttribute('db.transaction.statements', counter.n);
          }
        });
      });
  };
  (db as { transaction: unknown }).transaction = traced;
}
