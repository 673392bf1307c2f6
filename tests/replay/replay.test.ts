/**
 * Replay gate: every committed history (recorded from real runs) must replay against the current workflow code, with
 * the encrypting data converter the workers run with: histories recorded in clear (these, and orders started before
 * encryption was turned on) must still decode, since the codec passes through payloads without its marker.
 */
import { Worker } from '@temporalio/worker';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../core/config.js';
import { loadPayloadProtection } from '../../core/data-converter.js';
import { isEncrypted } from '../../core/payload-codec.js';
import { testPayloadEnv } from '../../harness/test-payload-keys.js';
import { TRUSTED_OUTCOMES_PATCH } from '../../workflows/policies.js';
import { historySets, LATER_PATHS, loadHistories, pathsOf } from '../support/histories.js';
import { installQuietRuntime } from '../support/quiet-runtime.js';

const histories = loadHistories();
const { dataConverter, codec } = loadPayloadProtection(loadConfig({ NODE_ENV: 'test', ...testPayloadEnv() }));

beforeAll(() => {
  installQuietRuntime();
});

describe('replay of committed histories', () => {
  for (const set of historySets()) {
    it(`set ${set} records every path of the saga`, () => {
      const scenarios = histories.filter((h) => h.set === set).map((h) => h.scenario);
      expect(scenarios.sort()).toEqual(pathsOf(set).sort());
    });
  }

  it('the paths only newer sets hold took the trusted-outcomes patch; the ordinary paths carry no marker of it', () => {
    const marked = (history: (typeof histories)[number]['history']) =>
      (history.events ?? []).some((event) => {
        const data = event.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0]?.data;
        return data ? new TextDecoder().decode(data).includes(`"${TRUSTED_OUTCOMES_PATCH}"`) : false;
      });
    for (const [set, paths] of Object.entries(LATER_PATHS)) {
      for (const recorded of histories.filter((h) => h.set === set)) {
        expect(marked(recorded.history), recorded.workflowId).toBe(paths.includes(recorded.scenario));
      }
    }
  });

  for (const { workflowId, history } of histories) {
    it(`${workflowId} replays without a determinism error`, async () => {
      expect(history.events?.length).toBeGreaterThan(10);
      const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
      expect(input && isEncrypted(input)).toBe(false);
      expect(codec).not.toBeNull();
      await Worker.runReplayHistory(
        { workflowBundle: { codePath: inject('workflowBundlePath') }, dataConverter },
        history,
        workflowId,
      );
    });
  }
});
