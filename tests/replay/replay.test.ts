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
import { TRACING_PATCH } from '../../workflows/tracing-interceptors.js';
import { historySets, LATER_PATHS, loadHistories, pathsOf, TRACED_SETS } from '../support/histories.js';
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

  const marked = (history: (typeof histories)[number]['history'], patch: string) =>
    (history.events ?? []).some((event) => {
      const data = event.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0]?.data;
      return data ? new TextDecoder().decode(data).includes(`"${patch}"`) : false;
    });

  it('the paths only newer sets hold took the trusted-outcomes patch; the ordinary paths carry no marker of it', () => {
    for (const [set, paths] of Object.entries(LATER_PATHS)) {
      for (const recorded of histories.filter((h) => h.set === set)) {
        expect(marked(recorded.history, TRUSTED_OUTCOMES_PATCH), recorded.workflowId).toBe(
          paths.includes(recorded.scenario),
        );
      }
    }
  });

  it('both tracing paths are recorded: traced sets took the tracing patch, every older set replays untraced', () => {
    const traced = histories.filter((h) => TRACED_SETS.includes(h.set));
    const untraced = histories.filter((h) => !TRACED_SETS.includes(h.set));
    expect(traced.length).toBeGreaterThan(0);
    expect(untraced.length).toBeGreaterThan(0);
    for (const recorded of traced)
      expect(marked(recorded.history, TRACING_PATCH), recorded.workflowId).toBe(true);
    for (const recorded of untraced)
      expect(marked(recorded.history, TRACING_PATCH), recorded.workflowId).toBe(false);
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
