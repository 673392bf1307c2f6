/** Shared by the consumer tests: one order's events, publishing them as the relay does, and reading results. */
import { randomBytes } from 'node:crypto';
import type { JetStreamManager, StoredMsg } from '@nats-io/jetstream';
import type { Registry } from 'prom-client';
import {
  DEAD_LETTER_STREAM,
  type EventData,
  type EventEnvelope,
  type EventName,
  type EventService,
  eventSubject,
} from '../../contracts/events.js';
import { buildEventEnvelope } from '../../events/envelope.js';
import type { NatsClient } from '../../events/nats.js';
import { deadLetterSubject } from '../../events/streams.js';

export const unique = (prefix: string) => `${prefix}_${randomBytes(5).toString('hex')}`;

export async function until<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The value of `saga_events_consumed_total` (or another counter) for these labels, 0 when never counted. */
export async function counter(
  registry: Registry,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  return values
    .filter((value) => Object.entries(labels).every(([key, label]) => value.labels[key] === label))
    .reduce((sum, value) => sum + value.value, 0);
}

/** One order's events, built as the outbox builds them. */
export function orderEvents(orderId: string, customerId: string) {
  const event = <S extends EventService, N extends EventName<S>>(
    service: S,
    name: N,
    data: EventData<S, N>,
  ) => buildEventEnvelope(service, name, orderId, data);
  return {
    placed: event('orders', 'OrderPlaced', {
      orderId,
      customerId,
      clientId: 'app-1',
      items: [{ sku: 'MUG-RED', quantity: 2, unitPriceCents: 1299 }],
      totalCents: 2598,
    }),
    completed: event('orders', 'OrderCompleted', { orderId, totalCents: 2598 }),
    failed: event('orders', 'OrderFailed', {
      orderId,
      failureCode: 'OutOfStock',
      reason: 'MUG-RED is sold out',
    }),
    refunded: event('payments', 'PaymentRefunded', { orderId, refundId: 're_1', amountCents: 2598 }),
  };
}

/** Publishes an event as the relay does (subject by type, `Nats-Msg-Id` = event id unless told otherwise). */
export async function publish(
  nats: NatsClient,
  event: EventEnvelope,
  msgID: string = event.id,
): Promise<void> {
  const [, service, name] = event.type.split('.') as [string, EventService, EventName];
  const js = await nats.jetstream();
  await js.publish(eventSubject(service, name as never, event.subject), JSON.stringify(event), { msgID });
}

/** The dead letter a consumer published for `subject`, once there is one. */
export async function deadLetter(
  jsm: JetStreamManager,
  consumer: string,
  subject: string,
): Promise<StoredMsg> {
  return until(async () => {
    try {
      return (
        (await jsm.streams.getMessage(DEAD_LETTER_STREAM, {
          last_by_subj: deadLetterSubject(consumer, subject),
        })) ?? undefined
      );
    } catch {
      return undefined;
    }
  }, `a dead letter of ${consumer} on ${subject}`);
}
