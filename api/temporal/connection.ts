/** The API's Temporal client: connects lazily so the API starts (and answers 503) while Temporal is down. */
import {
  Client,
  Connection,
  type GrpcRetryOptions,
  isRetryableError,
  makeGrpcRetryInterceptor,
} from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import type { TemporalSettings } from '../../core/config.js';
import { temporalConnectionOptions, tracingClientInterceptors } from '../../core/temporal.js';

/** Where the API's client connects, and how (TLS, API key). */
export type TemporalTarget = Pick<TemporalSettings, 'address' | 'namespace' | 'tls' | 'apiKey'>;

/** A client plus the connection it owns; `close()` on shutdown. */
export interface LazyTemporalClient {
  client: Client;
  connection: Connection;
  close(): Promise<void>;
}

/** Longest pause between two gRPC retries of one call; request deadlines bound the total anyway. */
const RETRY_MAX_INTERVAL_MS = 1_000;
const RETRY_MAX_ATTEMPTS = 10;

/**
 * Builds a client without contacting the server. gRPC reconnects on its own; the short reconnect backoff bounds how
 * long requests keep failing after Temporal comes back (the gRPC default grows to two minutes).
 */
export function createLazyTemporalClient(
  target: TemporalTarget,
  dataConverter: DataConverter,
): LazyTemporalClient {
  let closing = false;
  // Our own backoff: the SDK's default ignores a custom maximum interval (5 s), and a retry timer that fires after
  // the channel closed throws out of the timer; so retries stop at close and close waits out the last one.
  const retry: GrpcRetryOptions = {
    retryableDecider: (attempt, status) =>
      !closing && attempt < RETRY_MAX_ATTEMPTS && isRetryableError(status),
    delayFunction: (attempt) =>
      Math.min(RETRY_MAX_INTERVAL_MS, 100 * 1.7 ** attempt) * (0.8 + Math.random() * 0.2),
  };
  const connection = Connection.lazy({
    ...temporalConnectionOptions(target),
    interceptors: [makeGrpcRetryInterceptor(retry)],
    channelArgs: {
      'grpc.initial_reconnect_backoff_ms': 250,
      'grpc.max_reconnect_backoff_ms': 2_000,
    },
  });
  return {
    client: new Client({
      connection,
      namespace: target.namespace,
      dataConverter,
      interceptors: tracingClientInterceptors(),
    }),
    connection,
    async close() {
      closing = true;
      await new Promise((resolve) => setTimeout(resolve, RETRY_MAX_INTERVAL_MS + 100));
      await connection.close();
    },
  };
}
