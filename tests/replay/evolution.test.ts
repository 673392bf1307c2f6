/**
 * The replay gate bites, and the documented way to change the saga passes it: incompatible variants fail on the
 * committed histories; a `patched()` version replays both old and new histories; `deprecatePatch()` replays new ones.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { History } from '@temporalio/common/lib/proto-utils.js';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import { loadHistories, SAGA_PATHS } from '../support/histories.js';
import { installQuietRuntime } from '../support/quiet-runtime.js';
import { registerSearchAttributes } from '../support/search-attributes.js';
import { runStubSaga, stubOrderInput } from '../support/stub-saga.js';
import { StubServices } from '../support/stub-services.js';

const VARIANTS_DIR = fileURLToPath(new URL('./variants/', import.meta.url));
const VARIANTS = [
  'activity-added',
  'steps-reordered',
  'confirmation-patched',
  'confirmation-deprecated',
] as const;
type Variant = (typeof VARIANTS)[number] | 'current';

/** The oldest set: histories from before any patch, the ones a careless change would break. */
const committed = loadHistories().filter((h) => h.set === 'remote-bookkeeping');

const bundles = new Map<Variant, string>();
let env: TestWorkflowEnvironment;

beforeAll(async () => {
  installQuietRuntime();
  bundles.set('current', inject('workflowBundlePath'));
  const dir = path.join(os.tmpdir(), `saga-variants-${process.pid}`);
  for (const variant of VARIANTS) {
    const { code } = await bundleWorkflowCode({
      workflowsPath: path.join(VARIANTS_DIR, `${variant}.ts`),
      logger: silentLogger,
    });
    const file = `${dir}-${variant}.js`;
    writeFileSync(file, code);
    bundles.set(variant, file);
  }
  env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: inject('temporalTestServer') } },
  });
  await registerSearchAttributes(env.connection);
});

afterAll(async () => {
  await env?.teardown();
});

/** Replays histories against a variant; returns the error (or undefined) per workflow id. */
async function replay(variant: Variant, histories: Array<{ workflowId: string; history: History }>) {
  const results = new Map<string, Error | undefined>();
  const bundle = { codePath: bundles.get(variant) as string };
  for await (const result of Worker.runReplayHistories({ workflowBundle: bundle }, histories)) {
    results.set(result.workflowId, result.error);
  }
  return results;
}

/** Runs one order on `variant` with stub services and returns its recorded history. */
async function recordOn(variant: Variant) {
  const confirmations: string[] = [];
  const input = stubOrderInput();
  const { handle } = await runStubSaga({
    env,
    bundlePath: bundles.get(variant) as string,
    stubs: new StubServices(),
    input,
    extraOrdersActivities: {
      async sendOrderConfirmation(orderId: string) {
        confirmations.push(orderId);
      },
    },
  });
  return { history: await handle.fetchHistory(), workflowId: handle.workflowId, confirmations };
}

describe('the replay gate', () => {
  it('has a committed history for every saga path', () => {
    expect(committed.map((h) => h.scenario).sort()).toEqual([...SAGA_PATHS].sort());
  });

  for (const variant of ['activity-added', 'steps-reordered'] as const) {
    it(`fails every committed history when the saga is changed incompatibly (${variant})`, async () => {
      const results = await replay(variant, committed);
      expect(results.size).toBe(committed.length);
      for (const [workflowId, error] of results) {
        expect(error, workflowId).toBeInstanceOf(DeterminismViolationError);
      }
    });
  }
});

describe('evolving the saga with patched() and deprecatePatch()', () => {
  it('a patched() change replays every old history and takes the new path for new orders', async () => {
    const old = await replay('confirmation-patched', committed);
    expect([...old.values()].filter(Boolean)).toEqual([]);

    const recorded = await recordOn('confirmation-patched');
    expect(recorded.confirmations).toHaveLength(1);
    const fresh = await replay('confirmation-patched', [recorded]);
    expect(fresh.get(recorded.workflowId)).toBeUndefined();
    // Rolling back to the code before the patch would break the new runs: the gate sees that too.
    const rolledBack = await replay('current', [recorded]);
    expect(rolledBack.get(recorded.workflowId)).toBeInstanceOf(DeterminismViolationError);
  });

  it('deprecatePatch() replays runs started under the patch, and only those', async () => {
    const recorded = await recordOn('confirmation-patched');
    const underPatch = await replay('confirmation-deprecated', [recorded]);
    expect(underPatch.get(recorded.workflowId)).toBeUndefined();
    const fromBefore = await replay('confirmation-deprecated', committed.slice(0, 1));
    expect([...fromBefore.values()][0]).toBeInstanceOf(DeterminismViolationError);
  });
});
