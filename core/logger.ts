/** Structured JSON logs (pino) with the service name on every line and secrets redacted. */
import { type Logger, pino } from 'pino';

/** Paths never written to logs, wherever they appear in a logged object. */
const REDACTED_PATHS = [
  'paymentToken',
  '*.paymentToken',
  'payment.token',
  '*.payment.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'apiKey',
];

export type { Logger };

/** Root logger of a process; `service` names the process role (api, worker:payments, dev). */
export function createLogger(service: string, level: string): Logger {
  return pino({
    level,
    base: { service },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
