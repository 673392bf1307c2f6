/** Shared test helpers: run activities in a mock Temporal context, and make unique rows to work on. */
import { randomBytes } from 'node:crypto';
import type { Logger, LogLevel, LogMetadata } from '@temporalio/common';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { eq } from 'drizzle-orm';
import { expect } from 'vitest';
import type { Database } from '../../db/client.js';
import { products } from '../../db/schema/inventory.js';

/** One captured log line. */
export interface LogEntry {
  level: LogLevel;
  message: string;
  meta: LogMetadata | undefined;
}

/** A Temporal logger that keeps lines in memory: keeps test output quiet and lets tests inspect what was logged. */
export class RecordingLogger implements Logger {
  readonly entries: LogEntry[] = [];
  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    this.entries.push({ level, message, meta });
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

/** Runs one activity call inside a mock Temporal activity context at the given attempt number. */
export function runActivity<I, R>(
  fn: (input: I) => Promise<R>,
  input: I,
  options: { attempt?: number; logger?: Logger } = {},
): Promise<R> {
  const env = new MockActivityEnvironment(
    { attempt: options.attempt ?? 1 },
    { logger: options.logger ?? new RecordingLogger() },
  );
  return env.run(fn, input);
}

/** A fresh id with a readable prefix, so tests sharing one database never touch each other's rows. */
export function uniqueId(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

/** Inserts a product with a unique SKU (starting with `prefix`) and the given stock; returns the SKU. */
export async function addProduct(db: Database, available: number, prefix = 'SKU'): Promise<string> {
  const sku = uniqueId(prefix);
  await db.insert(products).values({ sku, name: `Test ${sku}`, priceCents: 500, available });
  return sku;
}

/** Current stock numbers of a SKU. */
export async function stockOf(db: Database, sku: string): Promise<{ available: number; reserved: number }> {
  const [row] = await db
    .select({ available: products.available, reserved: products.reserved })
    .from(products)
    .where(eq(products.sku, sku));
  if (!row) throw new Error(`no product ${sku}`);
  return row;
}

/** Awaits a promise expected to reject with a non-retryable ApplicationFailure of `type`; returns it. */
export async function expectBusinessFailure(
  promise: Promise<unknown>,
  type: string,
): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  const failure = error as ApplicationFailure;
  expect(failure.type).toBe(type);
  expect(failure.nonRetryable).toBe(true);
  return failure;
}

/** Awaits a promise expected to reject with a plain, retryable Error (not an ApplicationFailure); returns it. */
export async function expectTransientError(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(Error);
  expect(error).not.toBeInstanceOf(ApplicationFailure);
  return error as Error;
}
