/** Appends domain events to a service's outbox, inside the transaction of the effect they report. */
import {
  type EventData,
  type EventEnvelope,
  type EventName,
  type EventService,
  eventSubject,
} from '../contracts/events.js';
import { activeTraceparent } from '../core/trace-context.js';
import type { Transaction } from '../db/client.js';
import { inventoryOutbox } from '../db/schema/inventory.js';
import { ordersOutbox } from '../db/schema/orders.js';
import type { OutboxTable } from '../db/schema/outbox.js';
import { paymentsOutbox } from '../db/schema/payments.js';
import { shippingOutbox } from '../db/schema/shipping.js';
import { buildEventEnvelope, type EnvelopeOptions } from './envelope.js';

/** Each service's outbox table (in its own schema). */
export const OUTBOX_TABLES: Readonly<Record<EventService, OutboxTable>> = {
  orders: ordersOutbox,
  inventory: inventoryOutbox,
  payments: paymentsOutbox,
  shipping: shippingOutbox,
};

/** The channel a service's outbox trigger NOTIFYs after every insert: its relay LISTENs on it. */
export function outboxChannel(service: EventService): string {
  return `outbox_${service}`;
}

/** The committing span's `traceparent` if it is sampled (an unsampled one would only make orphans downstream). */
function sampledTraceparent(): string | null {
  const traceparent = activeTraceparent();
  return traceparent?.endsWith('-01') ? traceparent : null;
}

/**
 * Records one event of `service` in its outbox, in `tx`: it commits with the effect or not at all. Call it only
 * when the effect changed something, so a retried activity that finds its work done appends nothing. The envelope
 * (and its id, the dedupe key from here on) is built now; an invalid `data` throws and rolls the effect back.
 */
export async function appendEvent<S extends EventService, N extends EventName<S>>(
  tx: Transaction,
  service: S,
  name: N,
  orderId: string,
  data: EventData<S, N>,
  options?: EnvelopeOptions,
): Promise<EventEnvelope<S, N>> {
  const envelope = buildEventEnvelope(service, name, orderId, data, options);
  const outbox: OutboxTable = OUTBOX_TABLES[service];
  await tx.insert(outbox).values({
    eventId: envelope.id,
    subject: eventSubject(service, name, orderId),
    orderId,
    // Generic S and N are one member of the union; TypeScript cannot see that on its own.
    envelope: envelope as EventEnvelope,
    traceParent: sampledTraceparent(),
  });
  return envelope;
}
