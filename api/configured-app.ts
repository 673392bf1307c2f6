/** The API as a process assembles it from configuration: the shared data converter, a lazy Temporal client, the codec server. */
import type { Registry } from 'prom-client';
import type { AppConfig } from '../core/config.js';
import type { PayloadProtection } from '../core/data-converter.js';
import type { Logger } from '../core/logger.js';
import type { DatabaseHandle } from '../db/client.js';
import { createApp } from './app.js';
import { codecServerFor } from './routes/codec.js';
import type { ApiSettings } from './settings.js';
import { createLazyTemporalClient, type LazyTemporalClient } from './temporal-connection.js';

export interface ConfiguredAppOptions {
  config: AppConfig;
  protection: PayloadProtection;
  database: DatabaseHandle;
  logger: Logger;
  settings?: Partial<ApiSettings>;
  registry?: Registry;
}

/** Builds the app and the Temporal client it owns (close it after the server). */
export function createConfiguredApp(options: ConfiguredAppOptions): {
  app: ReturnType<typeof createApp>;
  temporal: LazyTemporalClient;
} {
  const { config, protection, database, logger } = options;
  // Lazy: no round trip at start, so an outage of Temporal means 503s and a failing /readyz, not a crash loop.
  const temporal = createLazyTemporalClient(config.temporal, protection.dataConverter);
  const codec = codecServerFor(config.codec, protection.codec);
  const app = createApp({
    temporal: temporal.client,
    db: database.db,
    pingDatabase: () => database.ping(),
    auth: config.auth,
    logger,
    ...(options.settings ? { settings: options.settings } : {}),
    ...(options.registry ? { registry: options.registry } : {}),
    ...(codec ? { codec } : {}),
  });
  return { app, temporal };
}
