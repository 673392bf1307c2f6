/** Replay gate: every committed history (recorded from real runs) must replay against the current workflow code. */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { installQuietRuntime } from '../support/quiet-runtime.js';

const HISTORIES_DIR = fileURLToPath(new URL('../histories/', import.meta.url));
const files = readdirSync(HISTORIES_DIR).filter((file) => file.endsWith('.json'));

beforeAll(() => {
  installQuietRuntime();
});

describe('replay of committed histories', () => {
  it('has the histories of a completed and of a compensated order', () => {
    expect(files).toEqual(expect.arrayContaining(['completed.json', 'undeliverable.json', 'declined.json']));
  });

  for (const file of files) {
    it(`${path.basename(file, '.json')} replays without a determinism error`, async () => {
      const history = historyFromJSON(JSON.parse(readFileSync(path.join(HISTORIES_DIR, file), 'utf8')));
      expect(history.events?.length).toBeGreaterThan(10);
      await Worker.runReplayHistory(
        { workflowBundle: { codePath: inject('workflowBundlePath') } },
        history,
        file,
      );
    });
  }
});
