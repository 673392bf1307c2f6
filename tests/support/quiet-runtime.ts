/** Installs the Temporal worker runtime for a test file with SDK and core logs off (expected failures are noisy). */
import { makeTelemetryFilterString, Runtime } from '@temporalio/worker';
import { silentLogger } from '../../core/logger.js';

export function installQuietRuntime(): void {
  Runtime.install({
    logger: silentLogger,
    shutdownSignals: [],
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR', other: 'ERROR' }) } },
  });
}
