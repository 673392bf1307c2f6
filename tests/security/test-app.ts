/** The API app with no servers behind it, for HTTP-level tests of what needs neither Temporal nor a database. */
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../../api/app.js';
import { codecServerFor } from '../../api/codec/routes.js';
import { type AppConfig, loadConfig } from '../../core/config.js';
import { loadPayloadProtection, type PayloadProtection } from '../../core/data-converter.js';
import { createLogger } from '../../core/logger.js';
import type { Database } from '../../db/client.js';

/** A built app plus what it was built from, and the log lines it wrote. */
export interface OfflineApp {
  app: ReturnType<typeof createApp>;
  config: AppConfig;
  protection: PayloadProtection;
  logs: string[];
}

/** A database whose every query fails like a bug would (the message must never reach a client). */
const brokenDb = {
  select() {
    throw new Error('relation "secret_internal_table" does not exist at /srv/app/db.ts:42');
  },
} as unknown as Database;

/** Builds the app from an environment (NODE_ENV, keys, codec settings); Temporal is an unreachable lazy client. */
export function offlineApp(env: Record<string, string>): OfflineApp {
  const config = loadConfig(env);
  const logs: string[] = [];
  const logger = createLogger('api-test', 'debug', { write: (line: string) => logs.push(line) });
  const protection = loadPayloadProtection(config, logger);
  const codec = codecServerFor(config.codec, protection.codec);
  const app = createApp({
    temporal: new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) }),
    db: brokenDb,
    pingDatabase: async () => {
      throw new Error('connect ECONNREFUSED 10.20.30.40:5432');
    },
    auth: config.auth,
    logger,
    settings: { ...config.api, temporalTimeoutMs: 300 },
    ...(codec ? { codec } : {}),
  });
  return { app, config, protection, logs };
}

/** The JSON body of a test response. */
// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary response JSON and assert on it.
export const bodyOf = async (res: Response | Promise<Response>): Promise<any> => (await res).json();
