/**
 * Typed configuration, read from the environment once: the one entry of every process. Variables are declared
 * per section in ./config/schema.ts, checked across variables in ./config/checks.ts, reported in the one error
 * format of ./config/errors.ts and assembled into sections by ./config/sections.ts.
 */
import { type ConfigRole, configProblems } from './config/checks.js';
import { ConfigurationError, problemsOfIssues } from './config/errors.js';
import { API_DEFAULTS, type ParsedEnv, SECTION_SCHEMAS, type SectionName } from './config/schema.js';
import type { ApiSettings, AppConfig } from './config/sections.js';
import { buildConfig } from './config/sections.js';

export type { ConfigRole } from './config/checks.js';
export { type ConfigProblem, ConfigurationError, formatProblems } from './config/errors.js';
export { PROJECT_ROOT } from './config/schema.js';
export {
  type ApiSettings,
  type AppConfig,
  type CodecSettings,
  type DatabaseSslSettings,
  type DatabaseTimeouts,
  type EventSettings,
  type EventStreamSettings,
  formatAddress,
  type GraphSettings,
  type ListenAddress,
  type NatsAuth,
  type NatsConnectionSettings,
  type NatsTlsSettings,
  type PayloadSettings,
  type PemSource,
  SHARED_TEMPORAL_METRICS_PORT,
  SHARED_WORKER_HTTP_PORT,
  TEMPORAL_METRICS_PORTS,
  type TemporalSettings,
  type TemporalTlsSettings,
  type TraceSampling,
  type TracingSettings,
  WORKER_HTTP_PORTS,
  type WorkerSettings,
  type WorkerTuning,
} from './config/sections.js';

/** What the API uses when an app is built without configuration (tests): the defaults of a local run. */
export const DEFAULT_API_SETTINGS: ApiSettings = { ...API_DEFAULTS, exposeErrorDetails: true };

/** How a process loads its configuration. */
export interface LoadConfigOptions {
  /** What the process does: the API and the workers have production requirements of their own. Default: tool. */
  role?: ConfigRole;
}

/**
 * Parses every section of an environment and checks it; throws a {@link ConfigurationError} listing every
 * problem at once (bad values, contradictions, production refusals, renamed variables).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, options: LoadConfigOptions = {}): AppConfig {
  const parsed = new Set<SectionName>();
  const issues = [];
  let values: Partial<ParsedEnv> = {};
  for (const [name, schema] of Object.entries(SECTION_SCHEMAS) as Array<
    [SectionName, (typeof SECTION_SCHEMAS)[SectionName]]
  >) {
    const result = schema.safeParse(env);
    if (result.success) {
      parsed.add(name);
      values = { ...values, ...result.data };
    } else {
      issues.push(...result.error.issues);
    }
  }
  // Checks read only sections that parsed, so what was parsed is enough for them even when another section failed.
  const e = values as ParsedEnv;
  const problems = [...problemsOfIssues(issues), ...configProblems(e, options.role ?? 'tool', parsed)];
  if (problems.length > 0) throw new ConfigurationError(problems);
  return buildConfig(e);
}
