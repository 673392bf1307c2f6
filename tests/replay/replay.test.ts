/** Replay gate: every committed history (recorded from real runs) must replay against the current workflow code. */
import { Worker } from '@temporalio/worker';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { historySets, loadHistories, SAGA_PATHS } from '../support/histories.js';
import { installQuietRuntime } from '../support/quiet-runtime.js';

const histories = loadHistories();

beforeAll(() => {
  installQuietRuntime();
});

describe('replay of committed histories', () => {
  for (const set of historySets()) {
    it(`set ${set} records every path of the saga`, () => {
      const scenarios = histories.filter((h) => h.set === set).map((h) => h.scenario);
      expect(scenarios.sort()).toEqual([...SAGA_PATHS].sort());
    });
  }

  for (const { workflowId, history } of histories) {
    it(`${workflowId} replays without a determinism error`, async () => {
      expect(history.events?.length).toBeGreaterThan(10);
      await Worker.runReplayHistory(
        { workflowBundle: { codePath: inject('workflowBundlePath') } },
        history,
        workflowId,
      );
    });
  }
});
