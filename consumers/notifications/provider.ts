/**
 * The simulated notification provider: what an email API would be, without the network. The text of each
 * notification is fixed by its kind and the event's data, and a send is idempotent by its key (the event id), as
 * real providers' idempotency keys are, so a retried event never mails a customer twice. Two customer ids
 * misbehave on purpose, for tests and the chaos run (docs/EVENTS.md):
 * `cust-unreachable` fails every send transiently, `cust-poison` is refused for good.
 */
import { createHash } from 'node:crypto';
import type { EventData } from '../../contracts/events.js';
import type { NotificationKind } from '../../db/schema/notifications.js';

/** Customer whose sends always fail transiently (the provider is "down" for them): retried, then dead-lettered. */
export const UNREACHABLE_CUSTOMER = 'cust-unreachable';
/** Customer the provider refuses for good (an invalid address, say): dead-lettered at the first delivery. */
export const POISON_CUSTOMER = 'cust-poison';

/** The channel every notification goes out on. */
export const NOTIFICATION_CHANNEL = 'email';

/** The event data each notification kind is written from. */
export interface NotificationData extends Record<NotificationKind, unknown> {
  OrderCompleted: EventData<'orders', 'OrderCompleted'>;
  OrderFailed: EventData<'orders', 'OrderFailed'>;
  OrderCancelled: EventData<'orders', 'OrderCancelled'>;
  PaymentRefunded: EventData<'payments', 'PaymentRefunded'>;
}

/** One message to send. */
export interface NotificationRequest<K extends NotificationKind = NotificationKind> {
  kind: K;
  customerId: string;
  data: NotificationData[K];
  /** Sending twice with one key sends once: the event id. */
  idempotencyKey: string;
}

/** What the provider accepted. */
export interface SentNotification {
  /** The provider's id of the message, for support to trace it. */
  providerRef: string;
  channel: typeof NOTIFICATION_CHANNEL;
  message: string;
}

/** A failure that may pass if the send is tried again later. */
export class ProviderUnavailableError extends Error {
  override name = 'ProviderUnavailableError';
}

/** A refusal no retry changes. */
export class RecipientRejectedError extends Error {
  override name = 'RecipientRejectedError';
}

/** Sends customer notifications. */
export interface NotificationProvider {
  send(request: NotificationRequest): Promise<SentNotification>;
}

const amount = (cents: number) => (cents / 100).toFixed(2);

/** The text of a notification: the same kind and data always give the same words. */
export function notificationMessage(request: Pick<NotificationRequest, 'kind' | 'data'>): string {
  const { kind, data } = request as {
    [K in NotificationKind]: { kind: K; data: NotificationData[K] };
  }[NotificationKind];
  switch (kind) {
    case 'OrderCompleted':
      return `Your order ${data.orderId} is confirmed: ${amount(data.totalCents)} charged, and it is on its way.`;
    case 'OrderFailed':
      return `We could not complete your order ${data.orderId}${data.failureCode ? ` (${data.failureCode})` : ''}: ${data.reason}. Anything charged is refunded.`;
    case 'OrderCancelled':
      return `Your order ${data.orderId} is cancelled, as you asked.`;
    case 'PaymentRefunded':
      return `We refunded ${amount(data.amountCents)} for your order ${data.orderId}.`;
  }
}

/** A provider reference derived from the idempotency key, so a repeated send answers the same. */
function providerRef(idempotencyKey: string): string {
  return `sim-${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 20)}`;
}

/** Idempotency keys the simulated provider remembers (the oldest are forgotten first). */
const REMEMBERED_KEYS = 10_000;

/** The simulated provider; `sent` lists the distinct messages it accepted lately, oldest first. */
export function createSimulatedProvider(): NotificationProvider & { readonly sent: SentNotification[] } {
  const byKey = new Map<string, SentNotification>();
  return {
    get sent() {
      return [...byKey.values()];
    },
    async send(request) {
      if (request.customerId === UNREACHABLE_CUSTOMER) {
        throw new ProviderUnavailableError(`provider unreachable for customer ${request.customerId}`);
      }
      if (request.customerId === POISON_CUSTOMER) {
        throw new RecipientRejectedError(`provider rejects customer ${request.customerId} for good`);
      }
      const known = byKey.get(request.idempotencyKey);
      if (known) return known;
      const notification: SentNotification = {
        providerRef: providerRef(request.idempotencyKey),
        channel: NOTIFICATION_CHANNEL,
        message: notificationMessage(request),
      };
      byKey.set(request.idempotencyKey, notification);
      if (byKey.size > REMEMBERED_KEYS) byKey.delete(byKey.keys().next().value as string);
      return notification;
    },
  };
}
