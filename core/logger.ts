/** Structured JSON logs (pino) with the service name on every line, readable errors and secrets redacted. */
import { type Logger, pino } from 'pino';
import { activeTraceIds } from './trace-context.js';

/** Paths never written to logs, wherever they appear in a logged object (tokens, keys, customers' addresses). */
export const REDACTED_PATHS = [
  'paymentToken',
  '*.paymentToken',
  'payment.token',
  '*.payment.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'apiKey',
  // NATS credentials (config.events.connection.auth), should a settings object ever be logged.
  'password',
  '*.password',
  'pass',
  '*.pass',
  'token',
  '*.token',
  'auth.password',
  'auth.token',
  'connection.auth.password',
  'connection.auth.token',
  'events.connection.auth.password',
  'events.connection.auth.token',
  'shippingAddress',
  '*.shippingAddress',
  // Activity and workflow inputs, should any SDK line carry them: they hold tokens and addresses.
  'args',
  '*.args',
  'input',
  '*.input',
];

export type { Logger };

const noop = () => undefined;
/** A Temporal-SDK-shaped logger that drops everything (bundler and mock activity output in harnesses and tests). */
export const silentLogger = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };

/** An error as a plain object: class, message, stack, cause, and a Temporal failure's type and retryability. */
export function serializeError(value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  const serialized = pino.stdSerializers.errWithCause(value) as unknown as Record<string, unknown>;
  const failure = value as Error & { type?: unknown; nonRetryable?: unknown };
  // pino's `type` is the class name; a Temporal ApplicationFailure's own `type` is the business failure.
  if (typeof failure.type === 'string') serialized.failureType = failure.type;
  if (typeof failure.nonRetryable === 'boolean') serialized.nonRetryable = failure.nonRetryable;
  return serialized;
}

/**
 * Root logger of a process; `service` names the process role (api, worker:payments, dev). A line that names
 * its own `service` (an activity's) or a child logger bound to one keeps that one, so no line has two.
 */
export function createLogger(service: string, level: string, destination?: pino.DestinationStream): Logger {
  const boundService = new WeakMap<object, boolean>();
  const hasServiceBinding = (instance: Logger): boolean => {
    let bound = boundService.get(instance);
    if (bound === undefined) {
      bound = 'service' in instance.bindings();
      boundService.set(instance, bound);
    }
    return bound;
  };
  const options: pino.LoggerOptions = {
    level,
    base: null,
    // The active span's ids on every line logged inside one (nothing extra with tracing off).
    mixin: (line, _level, instance) =>
      'service' in line || hasServiceBinding(instance as Logger)
        ? activeTraceIds()
        : { service, ...activeTraceIds() },
    serializers: { err: serializeError, error: serializeError },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}
