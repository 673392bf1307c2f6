/**
 * `npm run build:workflows [-- --out <file>]`: bundles the saga workflow code once (as the image build does), so
 * workers start from `WORKFLOW_BUNDLE_PATH` instead of running webpack on every start.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bundleWorkflowCode } from '@temporalio/worker';
import { PROJECT_ROOT } from '../core/config.js';
import { ENCODING_FAILURE_CONVERTER_PATH } from '../core/data-converter.js';
import { silentLogger } from '../core/logger.js';
import { WORKFLOWS_PATH } from './service-worker.js';
import { WORKFLOW_TRACING_MODULE } from './worker-tracing.js';

/** Where the bundle goes unless `--out` says otherwise (dist/ is gitignored). */
export const DEFAULT_BUNDLE_PATH = path.join(PROJECT_ROOT, 'dist', 'workflows.js');

/**
 * Bundles workflow code (the saga's unless `workflowsPath` says otherwise) and writes the bundle to `outFile`;
 * returns its size in bytes. `quiet` drops the bundler's own output (harnesses that print tables of their own).
 *
 * The bundle holds Temporal's OpenTelemetry workflow interceptors, whatever the tracing configuration.
 *
 * The bundle converts the failures workflow code raises with the encoding failure converter (message and stack
 * trace in a payload, which the workers' codec encrypts), unless `encodeFailures: false`. The workflow sandbox
 * cannot read the configuration, so this is decided here: encoding is right whenever encryption is on (always in
 * production); with PAYLOAD_ENCRYPTION=false the encoded message is a plain JSON payload every client still reads.
 */
export async function writeWorkflowBundle(
  outFile: string,
  options: { workflowsPath?: string; quiet?: boolean; encodeFailures?: boolean } = {},
): Promise<number> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: options.workflowsPath ?? WORKFLOWS_PATH,
    // Always in: whether spans leave the worker is the worker's configuration (workers/worker-tracing.ts).
    workflowInterceptorModules: [WORKFLOW_TRACING_MODULE],
    ...(options.encodeFailures === false ? {} : { failureConverterPath: ENCODING_FAILURE_CONVERTER_PATH }),
    ...(options.quiet ? { logger: silentLogger } : {}),
  });
  mkdirSync(path.dirname(outFile), { recursive: true });
  writeFileSync(outFile, code);
  return Buffer.byteLength(code);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: DEFAULT_BUNDLE_PATH },
      // For workers that run with PAYLOAD_ENCRYPTION=false only: failures raised by workflow code stay in clear.
      'plain-failures': { type: 'boolean', default: false },
    },
  });
  const outFile = path.resolve(values.out ?? DEFAULT_BUNDLE_PATH);
  const bytes = await writeWorkflowBundle(outFile, { encodeFailures: !values['plain-failures'] });
  console.log(
    `workflow bundle written: ${path.relative(process.cwd(), outFile)} (${Math.round(bytes / 1024)} KiB)`,
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
