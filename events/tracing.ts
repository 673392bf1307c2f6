/**
 * Spans of the event side, joined to the order's trace by W3C trace context: the relay's `publish` span is a
 * child of the span that committed the event (its `traceparent` stored in the outbox row) and travels in the
 * message's NATS headers; a consumer's `process` span is a child of that. Messaging semantic conventions
 * (`messaging.system` = nats, destination, message id) plus `order.id`.
 */

import type { MsgHdrs } from '@nats-io/transport-node';
import { context, propagation, ROOT_CONTEXT, SpanKind, type TextMapGetter, trace } from '@opentelemetry/api';
import { inSpan, TRACER_NAME } from '../core/trace-context.js';

const headerSetter = { set: (carrier: MsgHdrs, key: string, value: string) => carrier.set(key, value) };
const headerGetter: TextMapGetter<MsgHdrs | undefined> = {
  keys: (carrier) => carrier?.keys() ?? [],
  get: (carrier, key) => (carrier?.has(key) ? carrier.get(key) : undefined),
};

/** `events.<service>.<Event>` of a subject `events.<service>.<Event>.<orderId>`: a low-cardinality span name. */
function destinationTemplate(subject: string): string {
  return subject.split('.').slice(0, 3).join('.');
}

function messagingAttributes(subject: string, eventId: string, orderId: string, operation: string) {
  return {
    'messaging.system': 'nats',
    'messaging.destination.name': subject,
    'messaging.destination.template': destinationTemplate(subject),
    'messaging.operation.name': operation,
    'messaging.operation.type': operation === 'publish' ? 'send' : 'process',
    'messaging.message.id': eventId,
    'order.id': orderId,
  };
}

/**
 * Runs `publish` in a PRODUCER span under the stored `traceParent`, with the span's context written into
 * `headers`; without a stored context (not sampled, tracing off) it just publishes.
 */
export async function tracedPublish<T>(
  row: { subject: string; eventId: string; orderId: string; traceParent: string | null },
  headers: MsgHdrs,
  publish: () => Promise<T>,
): Promise<T> {
  if (!row.traceParent) return publish();
  const parent = propagation.extract(ROOT_CONTEXT, { traceparent: row.traceParent });
  const span = trace.getTracer(TRACER_NAME).startSpan(
    `publish ${destinationTemplate(row.subject)}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: messagingAttributes(row.subject, row.eventId, row.orderId, 'publish'),
    },
    parent,
  );
  const withSpan = trace.setSpan(parent, span);
  propagation.inject(withSpan, headers, headerSetter);
  return inSpan(span, () => context.with(withSpan, publish));
}

/** Runs a consumer's handling of one message in a CONSUMER span, child of the context in its headers. */
export function tracedProcess<T>(
  message: {
    subject: string;
    headers: MsgHdrs | undefined;
    eventId: string;
    orderId: string;
    consumer: string;
  },
  work: () => Promise<T>,
): Promise<T> {
  const parent = propagation.extract(ROOT_CONTEXT, message.headers, headerGetter);
  if (!trace.getSpan(parent)) return work();
  const span = trace.getTracer(TRACER_NAME).startSpan(
    `process ${destinationTemplate(message.subject)}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        ...messagingAttributes(message.subject, message.eventId, message.orderId, 'process'),
        'messaging.consumer.group.name': message.consumer,
      },
    },
    parent,
  );
  return inSpan(span, () => context.with(trace.setSpan(parent, span), work));
}
