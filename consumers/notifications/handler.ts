/**
 * What each event does to the notifications service, inside the consumer's transaction (events/consumer.ts): an
 * OrderPlaced records who the order's customer is; OrderCompleted, OrderFailed, OrderCancelled and PaymentRefunded
 * send that customer one notification and record it. It learns everything from the events, nothing from another
 * service's tables.
 */
import { and, eq } from 'drizzle-orm';
import { type EventEnvelope, eventSubject } from '../../contracts/events.js';
import type { Transaction } from '../../db/client.js';
import {
  NOTIFICATION_KINDS,
  type NotificationKind,
  notifications,
  orderCustomers,
} from '../../db/schema/notifications.js';
import { type EventHandler, PermanentEventError } from '../../events/consumer.js';
import { type NotificationData, type NotificationProvider, RecipientRejectedError } from './provider.js';

/** Durable consumer name of the service (also its inbox rows' `consumer` and its dead-letter subjects' token). */
export const NOTIFICATIONS_CONSUMER = 'notifications';

/** The events the service subscribes to, as `[service, event]`. */
const SUBSCRIBED = [
  ['orders', 'OrderPlaced'],
  ['orders', 'OrderCompleted'],
  ['orders', 'OrderFailed'],
  ['orders', 'OrderCancelled'],
  ['payments', 'PaymentRefunded'],
] as const;

/** Subjects of the events the service subscribes to; `orderId` narrows them to one order (tests). */
export function notificationSubjects(orderId?: string): string[] {
  return SUBSCRIBED.map(([service, name]) =>
    orderId ? eventSubject(service, name, orderId) : `events.${service}.${name}.*`,
  );
}

const isNotificationKind = (name: string): name is NotificationKind =>
  (NOTIFICATION_KINDS as readonly string[]).includes(name);

/** Thrown while an order's OrderPlaced has not been handled yet: retried, since it is on its way. */
export class CustomerUnknownError extends Error {
  override name = 'CustomerUnknownError';
}

async function customerOf(tx: Transaction, orderId: string): Promise<string> {
  const [row] = await tx
    .select({ customerId: orderCustomers.customerId })
    .from(orderCustomers)
    .where(eq(orderCustomers.orderId, orderId));
  if (!row) {
    throw new CustomerUnknownError(
      `no customer known for order ${orderId}: its OrderPlaced has not been handled (yet)`,
    );
  }
  return row.customerId;
}

/** What the service needs to handle events. */
export interface NotificationsHandlerDeps {
  provider: NotificationProvider;
}

/** The handler of the notifications consumer. */
export function createNotificationsHandler({ provider }: NotificationsHandlerDeps): EventHandler {
  return async (event: EventEnvelope, tx: Transaction) => {
    const name = event.type.split('.')[2] ?? '';
    if (event.type === 'order-saga.orders.OrderPlaced.v1') {
      await tx
        .insert(orderCustomers)
        .values({ orderId: event.data.orderId, customerId: event.data.customerId })
        .onConflictDoNothing();
      return;
    }
    // Anything else that reaches it (a wider filter) is acknowledged without effect.
    if (!isNotificationKind(name)) return;
    const orderId = event.subject;
    // One notification per kind, even if the same change were announced twice under different event ids.
    const [already] = await tx
      .select({ id: notifications.id })
      .from(notifications)
      .where(and(eq(notifications.orderId, orderId), eq(notifications.kind, name)));
    if (already) return;
    const customerId = await customerOf(tx, orderId);
    let sent: Awaited<ReturnType<NotificationProvider['send']>>;
    try {
      sent = await provider.send({
        kind: name,
        customerId,
        data: event.data as NotificationData[typeof name],
        idempotencyKey: event.id,
      });
    } catch (err) {
      if (err instanceof RecipientRejectedError) throw new PermanentEventError(err.message, { cause: err });
      throw err;
    }
    await tx
      .insert(notifications)
      .values({
        orderId,
        kind: name,
        channel: sent.channel,
        message: sent.message,
        providerRef: sent.providerRef,
        eventId: event.id,
      })
      .onConflictDoNothing();
  };
}
