/** A real Prometheus for the observability suite: config from the committed one, the process, its query API. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { type ManagedProcess, startProcess } from '../../harness/processes.js';
import type { Sample } from '../../harness/prometheus-text.js';

interface ScrapeConfig {
  job_name: string;
  static_configs?: Array<{ targets: string[]; labels?: Record<string, string> }>;
  [key: string]: unknown;
}

/**
 * The committed scrape config with every target that runs here re-pointed (`from` → `to`), targets that do not run
 * here dropped (and jobs left empty with them), and a short scrape interval so a check needs seconds, not minutes.
 * Rule files are made absolute (against the committed file's folder), so the copy may be written anywhere.
 */
export function prometheusConfigFor(
  committedPath: string,
  targets: Record<string, string>,
  scrapeInterval = '1s',
): string {
  const config = parse(readFileSync(committedPath, 'utf8')) as {
    global?: Record<string, unknown>;
    rule_files?: string[];
    scrape_configs: ScrapeConfig[];
  };
  config.global = { ...config.global, scrape_interval: scrapeInterval, evaluation_interval: scrapeInterval };
  if (config.rule_files) {
    const dir = path.dirname(path.resolve(committedPath));
    config.rule_files = config.rule_files.map((file) => path.resolve(dir, file));
  }
  const jobs = config.scrape_configs
    .map((job) => ({
      ...job,
      static_configs: (job.static_configs ?? [])
        .map((group) => ({
          ...group,
          targets: group.targets.flatMap((t) => (targets[t] ? [targets[t]] : [])),
        }))
        .filter((group) => group.targets.length > 0),
    }))
    .filter((job) => job.static_configs.length > 0);
  config.scrape_configs = jobs;
  const kept = jobs.flatMap((job) => job.static_configs.flatMap((g) => g.targets));
  const missing = Object.values(targets).filter((target) => !kept.includes(target));
  if (missing.length > 0)
    throw new Error(`the committed scrape config has no target for ${missing.join(', ')}`);
  return stringify(config);
}

/** A Prometheus server the suite started. */
export interface PrometheusServer {
  url: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

/** Starts `prometheus` and resolves once `/-/ready` answers; its output goes to `logFile`. */
export async function startPrometheus(options: {
  binary: string;
  configPath: string;
  dataDir: string;
  port: number;
  logFile: string;
}): Promise<PrometheusServer> {
  const url = `http://127.0.0.1:${options.port}`;
  const proc = startProcess({
    name: 'prometheus',
    command: options.binary,
    args: [
      `--config.file=${options.configPath}`,
      `--storage.tsdb.path=${options.dataDir}`,
      `--web.listen-address=127.0.0.1:${options.port}`,
      '--log.level=warn',
    ],
    logFile: options.logFile,
  });
  const stop = async () => {
    await proc.stop(10_000);
    proc.close();
  };
  try {
    await proc.waitReady(`${url}/-/ready`, 30_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, process: proc, stop };
}

interface QueryAnswer {
  status: 'success' | 'error';
  error?: string;
  data?: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}

/** Evaluates an instant PromQL query through the HTTP API; throws on a query error. */
export async function queryPrometheus(url: string, expr: string): Promise<Sample[]> {
  const response = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: expr })}`);
  const answer = (await response.json()) as QueryAnswer;
  if (answer.status !== 'success' || !answer.data)
    throw new Error(`query ${expr}: ${answer.error ?? 'failed'}`);
  if (answer.data.resultType !== 'vector') throw new Error(`query ${expr}: got a ${answer.data.resultType}`);
  return answer.data.result.map(({ metric, value }) => {
    const { __name__: name = '', ...labels } = metric;
    return { name, labels, value: Number(value[1]) };
  });
}

/** Polls a query until its first sample equals `value` (a scrape or two after the fact); throws with the last. */
export async function waitForQueryValue(
  url: string,
  expr: string,
  value: number,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const samples = await queryPrometheus(url, expr);
    if (samples[0]?.value === value) return;
    if (Date.now() > deadline)
      throw new Error(`${expr} = ${samples[0]?.value ?? 'no data'}, waited for ${value}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
