/** The one configuration loader: sections, the one error format with every problem at once, roles, renamed names. */
import { describe, expect, it } from 'vitest';
import { ConfigurationError, DEFAULT_API_SETTINGS, formatProblems, loadConfig } from '../../core/config.js';
import { formatPayloadKeys, generatePayloadKey } from '../../core/payload-keys.js';

/** The problems of an environment as `VAR: message` lines (fails the test when it loads). */
function problemLines(env: Record<string, string>, role?: 'api' | 'worker'): string[] {
  try {
    loadConfig(env, role ? { role } : {});
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigurationError);
    const [title, ...lines] = (err as Error).message.split('\n');
    expect(title).toBe('Invalid configuration:');
    for (const line of lines) expect(line).toMatch(/^ {2}[A-Z_][A-Z0-9_, .]*: \S/);
    expect(lines).toHaveLength((err as ConfigurationError).problems.length);
    return lines.map((line) => line.trim());
  }
  throw new Error(`expected a configuration error for ${JSON.stringify(env)}`);
}

const strongKey = 'k'.repeat(32);

describe('one error format, every problem at once', () => {
  it('lists bad values of several sections in one error, one line each', () => {
    const lines = problemLines({
      PORT: 'eighty',
      API_MAX_IN_FLIGHT: '0',
      TEMPORAL_TLS: 'maybe',
      DATABASE_POOL_SIZE: '1000',
      WORKER_SERVICES: 'payments,billing',
      WORKER_MAX_TASK_POLLS: '1',
      FAULT_RATE: '2',
    });
    const variables = lines.map((line) => line.slice(0, line.indexOf(':')));
    expect(variables).toEqual([
      'PORT',
      'API_MAX_IN_FLIGHT',
      'TEMPORAL_TLS',
      'DATABASE_POOL_SIZE',
      'WORKER_SERVICES',
      'WORKER_MAX_TASK_POLLS',
      'FAULT_RATE',
    ]);
    expect(lines).toContainEqual(
      expect.stringMatching(/^WORKER_SERVICES: unknown service "billing"; expected/),
    );
  });

  it('a bad value in one section does not hide a contradiction or a refusal in another', () => {
    const lines = problemLines({
      NODE_ENV: 'production',
      WORKER_HTTP_PORT: '70000',
      TEMPORAL_TLS: 'false',
      TEMPORAL_API_KEY: 'cloud-key',
      API_KEYS: 'web:short',
      FAULT_LATENCY_MS: '40',
      TEMPORAL_TLS_CERT: '/etc/tls/client.pem',
    });
    expect(lines).toEqual([
      expect.stringMatching(/^TEMPORAL_TLS_CERT: no longer read: use TEMPORAL_TLS_CLIENT_CERT_PATH/),
      expect.stringMatching(/^WORKER_HTTP_PORT: /),
      expect.stringMatching(/^API_KEYS: entry 1: the key must be at least 32 characters/),
      expect.stringMatching(/^FAULT_LATENCY_MS: fault injection is refused/),
    ]);
    // The Temporal section did not parse (the renamed variable), so its contradiction waits for the next run;
    // with that fixed it shows up next to the others.
    expect(
      problemLines({
        NODE_ENV: 'production',
        TEMPORAL_TLS: 'false',
        TEMPORAL_API_KEY: 'k',
        FAULT_RATE: '0.1',
      }),
    ).toEqual([
      expect.stringMatching(/^TEMPORAL_TLS: false contradicts TEMPORAL_API_KEY/),
      expect.stringMatching(/^FAULT_RATE: fault injection is refused/),
    ]);
  });

  it('formats problems the same wherever they come from', () => {
    expect(formatProblems([{ variable: 'PORT', message: 'bad' }])).toBe(
      'Invalid configuration:\n  PORT: bad',
    );
    expect(new ConfigurationError([{ variable: 'A', message: 'x' }]).message).toBe(
      'Invalid configuration:\n  A: x',
    );
  });
});

describe('what production requires depends on the role of the process', () => {
  const payloadKeys = formatPayloadKeys([generatePayloadKey('k1')]);

  it('the API needs keys, a cursor secret of its own and payload keys, all reported together', () => {
    expect(problemLines({ NODE_ENV: 'production' }, 'api')).toEqual([
      expect.stringMatching(/^API_KEYS, ADMIN_API_KEYS: API_KEYS or ADMIN_API_KEYS must be set/),
      expect.stringMatching(/^API_CURSOR_SECRET: must be set to a secret of your own/),
      expect.stringMatching(/^PAYLOAD_KEYS: must be set when NODE_ENV=production/),
    ]);
    const ready = {
      NODE_ENV: 'production',
      API_KEYS: `web:${strongKey}`,
      API_CURSOR_SECRET: 'c'.repeat(32),
      PAYLOAD_KEYS: payloadKeys,
    };
    expect(loadConfig(ready, { role: 'api' }).api).toEqual({
      temporalTimeoutMs: 5000,
      retryAfterSeconds: 5,
      cursorSecret: 'c'.repeat(32),
      maxInFlight: 512,
      maxEventStreams: 1000,
      exposeErrorDetails: false,
      placement: 'distributed',
    });
  });

  it('a worker needs payload keys (and no clear-text mode) but neither API keys nor a cursor secret', () => {
    expect(problemLines({ NODE_ENV: 'production' }, 'worker')).toEqual([
      expect.stringMatching(/^PAYLOAD_KEYS: must be set when NODE_ENV=production/),
    ]);
    expect(problemLines({ NODE_ENV: 'production', PAYLOAD_ENCRYPTION: 'false' }, 'worker')).toEqual([
      'PAYLOAD_ENCRYPTION: false is not allowed when NODE_ENV=production',
    ]);
    expect(loadConfig({ NODE_ENV: 'production', PAYLOAD_KEYS: payloadKeys }, { role: 'worker' }).env).toBe(
      'production',
    );
  });

  it('tools (migrate, seed, promote) need none of these; development needs nothing', () => {
    expect(loadConfig({ NODE_ENV: 'production' }).env).toBe('production');
    expect(loadConfig({}, { role: 'api' }).api).toEqual(DEFAULT_API_SETTINGS);
  });
});

describe('sections', () => {
  it('API settings from API_* variables', () => {
    const { api, http } = loadConfig({
      HOST: '0.0.0.0',
      PORT: '8080',
      API_TEMPORAL_TIMEOUT_MS: '1500',
      API_RETRY_AFTER_SECONDS: '9',
      API_MAX_IN_FLIGHT: '64',
      API_MAX_EVENT_STREAMS: '10',
      API_CURSOR_SECRET: 'a-cursor-secret-for-tests',
      SAGA_PLACEMENT: 'colocated',
    });
    expect(http).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(api).toEqual({
      temporalTimeoutMs: 1500,
      retryAfterSeconds: 9,
      maxInFlight: 64,
      maxEventStreams: 10,
      cursorSecret: 'a-cursor-secret-for-tests',
      exposeErrorDetails: true,
      placement: 'colocated',
    });
    expect(() => loadConfig({ SAGA_PLACEMENT: 'everywhere' })).toThrow(/SAGA_PLACEMENT/);
  });

  it('worker settings: services from WORKER_SERVICES, bundle path, grace, tuning and per-service ports', () => {
    const { worker } = loadConfig({
      WORKER_SERVICES: ' payments ',
      WORKFLOW_BUNDLE_PATH: '/app/dist/workflows.js',
      SHUTDOWN_GRACE_SECONDS: '5',
      WORKER_MAX_CONCURRENT_ACTIVITIES: '8',
    });
    expect(worker).toEqual({
      services: ['payments'],
      placements: ['distributed', 'colocated'],
      workflowBundlePath: '/app/dist/workflows.js',
      shutdownGraceSeconds: 5,
      tuning: {
        maxConcurrentActivities: 8,
        maxConcurrentLocalActivities: undefined,
        maxConcurrentWorkflowTasks: undefined,
        maxCachedWorkflows: undefined,
        maxTaskPolls: undefined,
      },
      http: { host: '127.0.0.1', port: 9093 },
      temporalMetrics: { host: '127.0.0.1', port: 9467 },
    });
    expect(loadConfig({}).worker.services).toEqual(['orders', 'inventory', 'payments', 'shipping']);
    expect(loadConfig({ WORKER_SERVICES: 'shipping,orders,shipping' }).worker.services).toEqual([
      'shipping',
      'orders',
    ]);
    expect(loadConfig({ WORKER_SERVICES: 'orders,all' }).worker.services).toHaveLength(4);
  });

  it('WORKER_PLACEMENTS: either or both placements, anything else refused by name', () => {
    expect(loadConfig({ WORKER_PLACEMENTS: ' colocated ' }).worker.placements).toEqual(['colocated']);
    expect(loadConfig({ WORKER_PLACEMENTS: 'colocated,distributed' }).worker.placements).toEqual([
      'distributed',
      'colocated',
    ]);
    expect(() => loadConfig({ WORKER_PLACEMENTS: 'colocated,local' })).toThrow(
      /WORKER_PLACEMENTS: expected distributed and\/or colocated/,
    );
    expect(() => loadConfig({ WORKER_PLACEMENTS: ',' })).toThrow(/WORKER_PLACEMENTS/);
  });

  it('Temporal settings with the standard names (the TLS cases are in tests/security/connection-options)', () => {
    const { temporal } = loadConfig({
      TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'ns.acct',
      TEMPORAL_TLS_CLIENT_CERT_PATH: '/tls/client.pem',
      TEMPORAL_TLS_CLIENT_KEY_PATH: '/tls/client.key',
    });
    expect(temporal).toEqual({
      address: 'ns.acct.tmprl.cloud:7233',
      namespace: 'ns.acct',
      external: true,
      uiPort: 8233,
      tls: {
        clientCert: { variable: 'TEMPORAL_TLS_CLIENT_CERT_PATH', path: '/tls/client.pem' },
        clientKey: { variable: 'TEMPORAL_TLS_CLIENT_KEY_PATH', path: '/tls/client.key' },
      },
      apiKey: undefined,
    });
    expect(problemLines({ TEMPORAL_ADDRESS: '' })).toEqual([expect.stringMatching(/^TEMPORAL_ADDRESS: /)]);
  });

  it('event settings: NATS_URL unset by default (a list when set), stream limits and outbox retention', () => {
    expect(loadConfig({}).events).toEqual({
      natsUrl: undefined,
      natsServers: [],
      streams: { replicas: 1, maxAgeHours: 168, maxBytes: 1024 ** 3, duplicateWindowSeconds: 120 },
      outboxRetentionHours: 24,
      consumerHttp: { host: '127.0.0.1', port: 9096 },
      connection: { auth: undefined, tls: undefined },
    });
    const { events } = loadConfig({
      NATS_URL: 'nats://nats-0.nats:4222, nats://nats-1.nats:4222,tls://nats-2.nats:4222',
      EVENTS_STREAM_REPLICAS: '3',
      EVENTS_STREAM_MAX_AGE_HOURS: '24',
      EVENTS_STREAM_MAX_BYTES: String(8 * 1024 ** 3),
      EVENTS_DUPLICATE_WINDOW_SECONDS: '300',
      EVENTS_OUTBOX_RETENTION_HOURS: '0',
      CONSUMER_HTTP_HOST: '0.0.0.0',
      CONSUMER_HTTP_PORT: '9100',
    });
    expect(events).toEqual({
      natsUrl: 'nats://nats-0.nats:4222,nats://nats-1.nats:4222,tls://nats-2.nats:4222',
      natsServers: ['nats://nats-0.nats:4222', 'nats://nats-1.nats:4222', 'tls://nats-2.nats:4222'],
      streams: { replicas: 3, maxAgeHours: 24, maxBytes: 8 * 1024 ** 3, duplicateWindowSeconds: 300 },
      outboxRetentionHours: 0,
      consumerHttp: { host: '0.0.0.0', port: 9100 },
      connection: { auth: undefined, tls: undefined },
    });
    // Optional everywhere, production included: without it the outbox keeps its rows until a NATS_URL is set.
    expect(loadConfig({ NATS_URL: '' }).events.natsUrl).toBeUndefined();
    // Except for an event consumer, which has nothing to read without it.
    expect(() => loadConfig({}, { role: 'consumer' })).toThrow(/NATS_URL: is required by an event consumer/);
    expect(loadConfig({ NATS_URL: 'nats://n:4222' }, { role: 'consumer' }).events.natsServers).toEqual([
      'nats://n:4222',
    ]);
  });

  it('event settings that cannot work are refused in the one format', () => {
    expect(
      problemLines({
        NATS_URL: 'http://nats:4222,nats://ok:4222',
        EVENTS_STREAM_REPLICAS: '7',
        EVENTS_STREAM_MAX_BYTES: '1000',
      }),
    ).toEqual([
      'NATS_URL: "http://nats:4222": expected nats://host:port or tls://host:port',
      expect.stringMatching(/^EVENTS_STREAM_REPLICAS: /),
      expect.stringMatching(/^EVENTS_STREAM_MAX_BYTES: /),
    ]);
    expect(problemLines({ NATS_URL: 'nats-0:4222' })).toEqual([
      expect.stringMatching(/^NATS_URL: "nats-0:4222": expected nats:\/\/host:port/),
    ]);
    expect(
      problemLines({ EVENTS_STREAM_MAX_AGE_HOURS: '1', EVENTS_DUPLICATE_WINDOW_SECONDS: '7200' }),
    ).toEqual([
      expect.stringMatching(/^EVENTS_DUPLICATE_WINDOW_SECONDS: must not exceed EVENTS_STREAM_MAX_AGE_HOURS/),
    ]);
  });
});
