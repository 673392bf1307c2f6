/** What parses but cannot be used: settings that contradict each other, and what production refuses. */
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { keyInBoth, MIN_PRODUCTION_KEY_LENGTH } from '../api-keys.js';
import { type ConfigProblem, problemOfLine } from './errors.js';
import { BUILT_IN_CURSOR_SECRET, type ParsedEnv, type SectionName } from './schema.js';

/** Which process loads the configuration: what production requires depends on what the process does. */
export type ConfigRole = 'api' | 'worker' | 'consumer' | 'tool';

/** The API's cursor secret must be at least this long in production. */
const MIN_PRODUCTION_CURSOR_SECRET_LENGTH = 16;

/** A check across variables, and the sections whose variables it reads (it runs only if they all parsed). */
interface Check {
  sections: readonly SectionName[];
  problems(e: ParsedEnv, role: ConfigRole): ConfigProblem[];
}

const production = (e: ParsedEnv) => e.NODE_ENV === 'production';
const sealsPayloads = (role: ConfigRole) => role === 'api' || role === 'worker';

/** Every check, in the order of the README's sections. */
const CHECKS: readonly Check[] = [
  {
    sections: ['process', 'api', 'auth'],
    problems: (e, role) => (production(e) && role === 'api' ? apiRefusals(e) : []),
  },
  { sections: ['auth'], problems: sharedKey },
  { sections: ['process', 'auth'], problems: (e) => (production(e) ? shortKeys(e) : []) },
  { sections: ['temporal'], problems: temporalTlsConflicts },
  { sections: ['database'], problems: databaseSslConflicts },
  { sections: ['payloads'], problems: encryptionKeyConflicts },
  {
    sections: ['process', 'payloads'],
    problems: (e, role) => (production(e) && sealsPayloads(role) ? payloadRefusals(e) : []),
  },
  { sections: ['worker'], problems: workerTuningConflicts },
  { sections: ['events'], problems: eventStreamConflicts },
  { sections: ['events'], problems: (e, role) => (role === 'consumer' ? consumerNeedsNats(e) : []) },
  { sections: ['events', 'natsAuth'], problems: natsAuthConflicts },
  { sections: ['process', 'faults'], problems: (e) => (production(e) ? faultRefusals(e) : []) },
  { sections: ['process', 'graph'], problems: (e) => (production(e) ? shortGraphToken(e) : []) },
];

/** The problems of every check whose sections all parsed (the others would read defaults, not the environment). */
export function configProblems(
  e: ParsedEnv,
  role: ConfigRole,
  parsed: ReadonlySet<SectionName>,
): ConfigProblem[] {
  return CHECKS.filter((check) => check.sections.every((section) => parsed.has(section))).flatMap((check) =>
    check.problems(e, role),
  );
}

/** One key in both variables would give a client admin rights. */
function sharedKey(e: ParsedEnv): ConfigProblem[] {
  const line = keyInBoth(e.API_KEYS, e.ADMIN_API_KEYS);
  return line ? [problemOfLine(line)] : [];
}

/** A CA file only means something when the certificate is verified. */
function databaseSslConflicts(e: ParsedEnv): ConfigProblem[] {
  if (e.DATABASE_SSL_CA && e.DATABASE_SSL && e.DATABASE_SSL !== 'verify-full') {
    return [
      { variable: 'DATABASE_SSL_CA', message: `needs DATABASE_SSL=verify-full (got ${e.DATABASE_SSL})` },
    ];
  }
  return [];
}

/** The encrypting key must be one of the configured keys. */
function encryptionKeyConflicts(e: ParsedEnv): ConfigProblem[] {
  const keyIds = e.PAYLOAD_KEYS.map((key) => key.id);
  if (e.PAYLOAD_ENCRYPTION_KEY_ID && keyIds.length > 0 && !keyIds.includes(e.PAYLOAD_ENCRYPTION_KEY_ID)) {
    return [
      {
        variable: 'PAYLOAD_ENCRYPTION_KEY_ID',
        message: `"${e.PAYLOAD_ENCRYPTION_KEY_ID}" is not a key id of PAYLOAD_KEYS`,
      },
    ];
  }
  return [];
}

/** Each workflow task in flight holds a cached run, so the cache bounds the slots. */
function workerTuningConflicts(e: ParsedEnv): ConfigProblem[] {
  const cache = e.WORKER_MAX_CACHED_WORKFLOWS;
  if (cache && e.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS && e.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS > cache) {
    return [
      {
        variable: 'WORKER_MAX_CONCURRENT_WORKFLOW_TASKS',
        message: 'must not exceed WORKER_MAX_CACHED_WORKFLOWS (each task in flight holds a cached workflow)',
      },
    ];
  }
  return [];
}

/** An event consumer reads JetStream: without a server it has nothing to do. */
function consumerNeedsNats(e: ParsedEnv): ConfigProblem[] {
  if (e.NATS_URL) return [];
  return [
    {
      variable: 'NATS_URL',
      message: 'is required by an event consumer, which reads its events from JetStream (nats://host:port)',
    },
  ];
}

/** JetStream refuses a stream whose duplicate window is longer than its max age. */
function eventStreamConflicts(e: ParsedEnv): ConfigProblem[] {
  if (e.EVENTS_DUPLICATE_WINDOW_SECONDS > e.EVENTS_STREAM_MAX_AGE_HOURS * 3_600) {
    return [
      {
        variable: 'EVENTS_DUPLICATE_WINDOW_SECONDS',
        message:
          'must not exceed EVENTS_STREAM_MAX_AGE_HOURS (the stream cannot dedupe what it no longer keeps)',
      },
    ];
  }
  return [];
}

type PemName = 'SERVER_CA_CERT' | 'CLIENT_CERT' | 'CLIENT_KEY';

/** The variable that sets a PEM (`_PATH` or `_DATA`), if any. */
function pemVariable(e: ParsedEnv, name: PemName): string | undefined {
  if (e[`TEMPORAL_TLS_${name}_PATH`]) return `TEMPORAL_TLS_${name}_PATH`;
  if (e[`TEMPORAL_TLS_${name}_DATA`]) return `TEMPORAL_TLS_${name}_DATA`;
  return undefined;
}

/** TLS settings that cannot all hold, or that the TypeScript SDK cannot honour. */
function temporalTlsConflicts(e: ParsedEnv): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const name of ['SERVER_CA_CERT', 'CLIENT_CERT', 'CLIENT_KEY'] as const) {
    if (e[`TEMPORAL_TLS_${name}_PATH`] && e[`TEMPORAL_TLS_${name}_DATA`]) {
      problems.push({
        variable: `TEMPORAL_TLS_${name}_PATH, TEMPORAL_TLS_${name}_DATA`,
        message: 'set one of them (a file or inline PEM), not both',
      });
    }
  }
  const cert = pemVariable(e, 'CLIENT_CERT');
  const key = pemVariable(e, 'CLIENT_KEY');
  if (Boolean(cert) !== Boolean(key)) {
    const missing = cert ? 'TEMPORAL_TLS_CLIENT_KEY_PATH' : 'TEMPORAL_TLS_CLIENT_CERT_PATH';
    problems.push({
      variable: cert ?? (key as string),
      message: `mTLS needs both the client certificate and its key: set ${missing} (or _DATA) too`,
    });
  }
  const tlsInputs = [
    pemVariable(e, 'SERVER_CA_CERT'),
    cert,
    key,
    e.TEMPORAL_TLS_SERVER_NAME ? 'TEMPORAL_TLS_SERVER_NAME' : undefined,
    e.TEMPORAL_API_KEY ? 'TEMPORAL_API_KEY' : undefined,
  ].filter((variable): variable is string => variable !== undefined);
  if (e.TEMPORAL_TLS === false && tlsInputs.length > 0) {
    problems.push({
      variable: 'TEMPORAL_TLS',
      message: `false contradicts ${tlsInputs.join(', ')} (TLS settings; an API key is never sent in clear)`,
    });
  }
  if (e.TEMPORAL_TLS_DISABLE_HOST_VERIFICATION === true) {
    problems.push({
      variable: 'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION',
      message:
        'the TypeScript SDK always verifies the host name; set TEMPORAL_TLS_SERVER_NAME to the name in the ' +
        "server's certificate instead",
    });
  }
  return problems;
}

/** Production keys must be long enough not to be guessed. */
function shortKeys(e: ParsedEnv): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const variable of ['API_KEYS', 'ADMIN_API_KEYS'] as const) {
    for (const { position, key } of e[variable]) {
      if (key.length < MIN_PRODUCTION_KEY_LENGTH) {
        problems.push({
          variable,
          message:
            `entry ${position}: the key must be at least ${MIN_PRODUCTION_KEY_LENGTH} characters when ` +
            'NODE_ENV=production (e.g. `openssl rand -hex 32`)',
        });
      }
    }
  }
  return problems;
}

/** Fault injection is a chaos-test switch; production never fails on purpose. */
function faultRefusals(e: ParsedEnv): ConfigProblem[] {
  return (['FAULT_RATE', 'FAULT_AFTER_RATE', 'FAULT_LATENCY_MS'] as const)
    .filter((variable) => e[variable] !== 0)
    .map((variable) => ({
      variable,
      message: 'fault injection is refused when NODE_ENV=production (unset it or set it to 0)',
    }));
}

/** The API serves nobody without keys, and a cursor secret anyone can read would let clients forge cursors. */
function apiRefusals(e: ParsedEnv): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (e.API_KEYS.length === 0 && e.ADMIN_API_KEYS.length === 0) {
    problems.push({
      variable: 'API_KEYS, ADMIN_API_KEYS',
      message:
        'API_KEYS or ADMIN_API_KEYS must be set when NODE_ENV=production (the API refuses to serve without keys)',
    });
  }
  if (e.API_CURSOR_SECRET === BUILT_IN_CURSOR_SECRET) {
    problems.push({
      variable: 'API_CURSOR_SECRET',
      message: 'must be set to a secret of your own when NODE_ENV=production (e.g. `openssl rand -hex 32`)',
    });
  } else if (e.API_CURSOR_SECRET.length < MIN_PRODUCTION_CURSOR_SECRET_LENGTH) {
    problems.push({
      variable: 'API_CURSOR_SECRET',
      message: `use at least ${MIN_PRODUCTION_CURSOR_SECRET_LENGTH} characters when NODE_ENV=production`,
    });
  }
  return problems;
}

/** Every process that touches workflow payloads seals them: production has no clear-text mode and no dev key. */
function payloadRefusals(e: ParsedEnv): ConfigProblem[] {
  if (e.PAYLOAD_ENCRYPTION === 'false') {
    return [{ variable: 'PAYLOAD_ENCRYPTION', message: 'false is not allowed when NODE_ENV=production' }];
  }
  if (e.PAYLOAD_KEYS.length === 0) {
    return [
      {
        variable: 'PAYLOAD_KEYS',
        message:
          'must be set when NODE_ENV=production (workflow payloads are encrypted; e.g. ' +
          'PAYLOAD_KEYS="k1:$(openssl rand -base64 32)")',
      },
    ];
  }
  return [];
}

/** The NATS variables that each choose a way to authenticate; a connection uses exactly one. */
const NATS_AUTH_VARIABLES = ['NATS_CREDS', 'NATS_NKEY', 'NATS_USER'] as const;

/** Why a file cannot be used (missing, a folder, unreadable), or undefined when it can be read. */
function unreadable(file: string): string | undefined {
  try {
    if (!statSync(file).isFile()) return `"${file}" is not a file`;
    accessSync(file, constants.R_OK);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `"${file}" does not exist` : `"${file}" cannot be read (${code ?? 'error'})`;
  }
}

/** What a file must hold to be what its variable says; the message never quotes the secret itself. */
const NATS_FILE_CONTENT: Partial<Record<string, { test: RegExp; expected: string }>> = {
  NATS_CREDS: {
    test: /-----BEGIN NATS USER JWT-----[\s\S]*-----BEGIN USER NKEY SEED-----/,
    expected: 'a .creds file (a NATS USER JWT block, then a USER NKEY SEED block; `nsc generate creds`)',
  },
  NATS_NKEY: { test: /^\s*SU[A-Z2-7]{56}\s*$/m, expected: 'a user NKey seed (a line `SU…`; `nk -gen user`)' },
};

/** One way to authenticate, a password only with its user, both halves of mTLS, and files that can be read. */
function natsAuthConflicts(e: ParsedEnv): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const chosen = NATS_AUTH_VARIABLES.filter((variable) => e[variable]);
  if (chosen.length > 1) {
    problems.push({
      variable: chosen.join(', '),
      message:
        'set one way to authenticate to NATS (a .creds file, an NKey seed, or a user/password or token)',
    });
  }
  if (e.NATS_PASSWORD && !e.NATS_USER) {
    problems.push({ variable: 'NATS_PASSWORD', message: 'needs NATS_USER (the user the password is for)' });
  }
  if (Boolean(e.NATS_CERT) !== Boolean(e.NATS_KEY)) {
    problems.push({
      variable: e.NATS_CERT ? 'NATS_CERT' : 'NATS_KEY',
      message: `mutual TLS needs both the client certificate and its key: set ${e.NATS_CERT ? 'NATS_KEY' : 'NATS_CERT'} too`,
    });
  }
  const settings = [...NATS_AUTH_VARIABLES, 'NATS_PASSWORD', 'NATS_CA', 'NATS_CERT', 'NATS_KEY'] as const;
  const set = settings.filter((variable) => e[variable]);
  if (set.length > 0 && !e.NATS_URL) {
    problems.push({
      variable: set.join(', '),
      message:
        'needs NATS_URL (the server these settings are for; the embedded dev server has no auth or TLS)',
    });
  }
  for (const variable of ['NATS_CREDS', 'NATS_NKEY', 'NATS_CA', 'NATS_CERT', 'NATS_KEY'] as const) {
    const file = e[variable];
    if (!file) continue;
    const why = unreadable(file);
    if (why) {
      problems.push({ variable, message: why });
      continue;
    }
    const content = NATS_FILE_CONTENT[variable];
    if (content && !content.test.test(readFileSync(file, 'utf8'))) {
      problems.push({ variable, message: `"${file}" is not ${content.expected}` });
    }
  }
  return problems;
}

/** The graph's internal token guards every client's orders at the subgraphs: a guessable one guards nothing. */
function shortGraphToken(e: ParsedEnv): ConfigProblem[] {
  const token = e.GRAPH_INTERNAL_TOKEN;
  if (token === undefined || token.length >= MIN_PRODUCTION_CURSOR_SECRET_LENGTH) return [];
  return [
    {
      variable: 'GRAPH_INTERNAL_TOKEN',
      message: `use at least ${MIN_PRODUCTION_CURSOR_SECRET_LENGTH} characters when NODE_ENV=production (e.g. \`openssl rand -hex 32\`)`,
    },
  ];
}
