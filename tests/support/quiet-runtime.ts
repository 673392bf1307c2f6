/**
 * Installs the Temporal worker runtime for a test file with SDK and core logs off (expected failures are noisy),
 * keeping what workflow code logged (`log` of @temporalio/workflow reaches the runtime's logger) for tests to read.
 */
import type { LogLevel, LogMetadata } from '@temporalio/common';
import { makeTelemetryFilterString, Runtime } from '@temporalio/worker';
import { type LogEntry, RecordingLogger } from '../activities/helpers.js';

/** Keeps the lines workflow code logged; drops the SDK's own. */
class WorkflowLogRecorder extends RecordingLogger {
  override log(level: LogLevel, message: string, meta?: LogMetadata): void {
    if (meta?.sdkComponent === 'workflow') super.log(level, message, meta);
  }
}

const recorder = new WorkflowLogRecorder();

/** What workflow code of this test file's runs logged, oldest first. */
export const workflowLogs: readonly LogEntry[] = recorder.entries;

export function installQuietRuntime(): void {
  Runtime.install({
    logger: recorder,
    shutdownSignals: [],
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR', other: 'ERROR' }) } },
  });
}
