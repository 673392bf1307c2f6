/**
 * How an order of each placement starts: a distributed order starts exactly as orders did before placements existed
 * (no placement in its input, the default workflow task timeout), so its history replays on any worker of the
 * distributed shape; a colocated order names its placement and gets the short task timeout its steps need.
 */
import { describe, expect, it } from 'vitest';
import { queueOfPlacement } from '../../contracts/orders.js';
import { placementStart } from '../../workflows/placement.js';
import { COLOCATED_WORKFLOW_TASK_TIMEOUT } from '../../workflows/policies.js';
import { stubOrderInput } from '../support/stub-saga.js';

describe('placementStart', () => {
  it('starts a distributed order on the orders queue as before placements: no placement, default task timeout', () => {
    const input = stubOrderInput();
    expect(placementStart({ ...input, placement: 'colocated' }, 'distributed')).toEqual({
      taskQueue: queueOfPlacement('distributed'),
      args: [input],
    });
  });

  it('starts a colocated order on its own queue, naming its placement, with the short task timeout', () => {
    const input = stubOrderInput();
    const start = placementStart(input, 'colocated');
    expect(start).toEqual({
      taskQueue: queueOfPlacement('colocated'),
      workflowTaskTimeout: COLOCATED_WORKFLOW_TASK_TIMEOUT,
      args: [{ ...input, placement: 'colocated' }],
    });
    expect(start.taskQueue).not.toBe(queueOfPlacement('distributed'));
  });
});
