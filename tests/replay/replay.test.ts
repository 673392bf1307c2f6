/**
 * Replay gate: every committed history (recorded from real runs) must replay against the current workflow code, with
 * the encrypting data converter the workers run with: histories recorded in clear (these, and orders started before
 * encryption was turned on) must still decode, since the codec passes through payloads without its marker.
 */

import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { COLOCATED_QUEUE, type OrderInput } from '../../contracts/orders.js';
import { loadConfig } from '../../core/config.js';
import { loadPayloadProtection } from '../../core/data-converter.js';
import { isEncrypted } from '../../core/payload-codec.js';
import { testPayloadEnv } from '../../harness/test-payload-keys.js';
import {
  LEAN_SAGA_PATCH,
  LOCAL_BOOKKEEPING_PATCH,
  TRUSTED_OUTCOMES_PATCH,
} from '../../workflows/policies.js';
import { TRACING_PATCH } from '../../workflows/tracing-interceptors.js';
import {
  COLOCATED_SETS,
  historySets,
  LATER_PATHS,
  LEAN_SETS,
  loadHistories,
  pathsOf,
  TRACED_SETS,
} from '../support/histories.js';
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

  it('lean runs took the lean patch in place of the local-bookkeeping one; no older set holds it', () => {
    const lean = histories.filter((h) => LEAN_SETS.includes(h.set));
    expect(lean.length).toBeGreaterThan(0);
    for (const recorded of histories) {
      const isLean = LEAN_SETS.includes(recorded.set);
      expect(marked(recorded.history, LEAN_SAGA_PATCH), recorded.workflowId).toBe(isLean);
      if (isLean) expect(marked(recorded.history, LOCAL_BOOKKEEPING_PATCH), recorded.workflowId).toBe(false);
    }
  });

  const colocated = histories.filter((h) => COLOCATED_SETS.includes(h.set));
  const startedOf = (history: (typeof histories)[number]['history']) =>
    history.events?.[0]?.workflowExecutionStartedEventAttributes;
  const inputOf = (history: (typeof histories)[number]['history']): OrderInput =>
    JSON.parse(new TextDecoder().decode(startedOf(history)?.input?.payloads?.[0]?.data ?? new Uint8Array()));

  it('colocated runs did every service step as a local activity (with its status write); the commit is the one activity they scheduled', () => {
    expect(colocated.map((h) => h.scenario).sort()).toEqual(pathsOf('colocated').sort());
    for (const { history, workflowId } of colocated) {
      expect(startedOf(history)?.taskQueue?.name, workflowId).toBe(COLOCATED_QUEUE);
      expect(inputOf(history).placement, workflowId).toBe('colocated');
      const scheduled = (history.events ?? []).flatMap((event) => {
        const name = event.activityTaskScheduledEventAttributes?.activityType?.name;
        return name ? [name] : [];
      });
      expect(
        scheduled.filter((name) => name !== 'commitStock'),
        workflowId,
      ).toEqual([]);
      // No patch of the distributed shapes: colocated orders exist only in the newest one.
      expect(marked(history, LEAN_SAGA_PATCH) || marked(history, LOCAL_BOOKKEEPING_PATCH), workflowId).toBe(
        false,
      );
    }
    const completed = colocated.find((h) => h.scenario === 'completed')?.history;
    // Each forward step with the status write announcing it, then the closing write.
    const localSteps = (completed?.events ?? []).flatMap((event) => {
      const marker = event.markerRecordedEventAttributes;
      const data =
        marker?.markerName === 'core_local_activity' ? marker.details?.data?.payloads?.[0]?.data : null;
      return data
        ? [(JSON.parse(new TextDecoder().decode(data)) as { activity_type: string }).activity_type]
        : [];
    });
    expect(localSteps).toEqual(['announceAndRun', 'announceAndRun', 'announceAndRun', 'setOrderStatus']);
  });

  it('the placement in the input decides the path: a colocated history replayed as distributed diverges', async () => {
    const recorded = colocated.find((h) => h.scenario === 'completed');
    if (!recorded) throw new Error('the colocated set has no completed history');
    const copy = historyFromJSON(JSON.parse(historyToJSON(recorded.history)));
    const payload = startedOf(copy)?.input?.payloads?.[0];
    if (!payload) throw new Error('the history has no input');
    const { placement: _placement, ...distributed } = inputOf(copy);
    payload.data = new TextEncoder().encode(JSON.stringify(distributed));
    await expect(
      Worker.runReplayHistory(
        { workflowBundle: { codePath: inject('workflowBundlePath') }, dataConverter },
        copy,
        `${recorded.workflowId}-as-distributed`,
      ),
    ).rejects.toThrow(/nondetermin/i);
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
