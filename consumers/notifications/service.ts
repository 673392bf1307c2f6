/**
 * The notifications service assembled: its durable consumer on ORDER_EVENTS with its handler and provider. Its
 * own process (./main.ts) and the in-process system (harness/system.ts) start it the same way.
 */
import type { Registry } from 'prom-client';
import type { EventStreamSettings } from '../../core/config.js';
import type { Logger } from '../../core/logger.js';
import type { DatabaseHandle } from '../../db/client.js';
import { notificationsInbox } from '../../db/schema/notifications.js';
import { type EventConsumer, type EventConsumerOptions, startEventConsumer } from '../../events/consumer.js';
import type { NatsClient } from '../../events/nats.js';
import { createNotificationsHandler, NOTIFICATIONS_CONSUMER, notificationSubjects } from './handler.js';
import { createSimulatedProvider, type NotificationProvider } from './provider.js';

/** What the service runs on. */
export interface NotificationsServiceOptions {
  database: DatabaseHandle;
  nats: NatsClient;
  logger: Logger;
  registry?: Registry;
  /** Stream limits to create or update the streams with before consuming (config.events.streams). */
  streams?: EventStreamSettings;
  /** Defaults to the simulated provider. */
  provider?: NotificationProvider;
  /** Overrides for tests: another durable, narrower subjects, shorter retries. */
  consumer?: Partial<
    Pick<EventConsumerOptions, 'name' | 'filterSubjects' | 'maxDeliver' | 'backoffMs' | 'ackWaitMs' | 'start'>
  >;
}

/** Starts the notifications consumer in the background; await `ready` to know it consumes. */
export function startNotificationsService(options: NotificationsServiceOptions): EventConsumer {
  return startEventConsumer({
    name: NOTIFICATIONS_CONSUMER,
    filterSubjects: notificationSubjects(),
    description: 'notifications: tells customers when an order completes, fails, is cancelled or refunded',
    inbox: notificationsInbox,
    database: options.database,
    nats: options.nats,
    logger: options.logger.child({ service: 'notifications' }),
    handle: createNotificationsHandler({ provider: options.provider ?? createSimulatedProvider() }),
    ...(options.registry ? { registry: options.registry } : {}),
    ...(options.streams ? { streams: options.streams } : {}),
    ...options.consumer,
  });
}
