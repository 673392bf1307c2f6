/** The committed workflow histories: `tests/histories/<set>/<scenario>.json`, one set per shape of the saga. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type History, historyFromJSON } from '@temporalio/common/lib/proto-utils.js';

const HISTORIES_DIR = fileURLToPath(new URL('../histories/', import.meta.url));

/** Every path of the saga that each set records. */
export const SAGA_PATHS = [
  'cancel-refused-after-shipping',
  'cancelled-while-charging',
  'cancelled-while-reserving',
  'completed',
  'compensation-retried',
  'declined',
  'flaky-payment',
  'out-of-stock',
  'undeliverable',
];

/** Paths that only sets recorded after they existed hold (the shapes before them could not take them). */
export const LATER_PATHS: Record<string, string[]> = {
  'trusted-outcomes': ['compensation-failed-resolved', 'step-voided'],
  traced: ['compensation-failed-resolved', 'step-voided'],
  lean: ['compensation-failed-resolved', 'step-voided'],
  colocated: ['compensation-failed-resolved', 'step-voided'],
};

/** Sets recorded with the tracing interceptors in the bundle (their runs carry TRACING_PATCH). */
export const TRACED_SETS = ['traced', 'lean', 'colocated'];

/** Distributed sets recorded with the lean saga (their runs carry LEAN_SAGA_PATCH). */
export const LEAN_SETS = ['lean'];

/** Sets of colocated orders (placement in the input, started on the colocated queue). */
export const COLOCATED_SETS = ['colocated'];

/** Every path a set must hold. */
export function pathsOf(set: string): string[] {
  return [...SAGA_PATHS, ...(LATER_PATHS[set] ?? [])];
}

export interface RecordedHistory {
  set: string;
  scenario: string;
  /** `<set>/<scenario>`, used as the workflow id when replaying. */
  workflowId: string;
  history: History;
}

/** Names of the history sets (folders). */
export function historySets(): string[] {
  return readdirSync(HISTORIES_DIR).filter((name) => statSync(path.join(HISTORIES_DIR, name)).isDirectory());
}

/** Every committed history of every set. */
export function loadHistories(): RecordedHistory[] {
  return historySets().flatMap((set) =>
    readdirSync(path.join(HISTORIES_DIR, set))
      .filter((file) => file.endsWith('.json'))
      .map((file) => {
        const scenario = path.basename(file, '.json');
        const json = JSON.parse(readFileSync(path.join(HISTORIES_DIR, set, file), 'utf8'));
        return { set, scenario, workflowId: `${set}/${scenario}`, history: historyFromJSON(json) };
      }),
  );
}
