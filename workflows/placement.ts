/** How an order of a placement is started: its queue, its workflow task timeout, its input (pure, no I/O). */
import { type OrderInput, queueOfPlacement, type SagaPlacement } from '../contracts/orders.js';
import { COLOCATED_WORKFLOW_TASK_TIMEOUT } from './policies.js';

/** The parts of a saga's start options that its placement decides. */
export interface PlacementStart {
  taskQueue: string;
  workflowTaskTimeout?: string;
  args: [OrderInput];
}

/**
 * Start options of an order placed `placement`: the input says which path the saga takes (replay reads it from
 * the history), the queue makes sure only a worker with every step runs a colocated one, and a colocated order's
 * short task timeout makes the worker heartbeat the task that runs its steps, so a cancel or a query gets in.
 */
export function placementStart(input: OrderInput, placement: SagaPlacement): PlacementStart {
  const { placement: _ignored, ...rest } = input;
  if (placement === 'distributed') return { taskQueue: queueOfPlacement(placement), args: [rest] };
  return {
    taskQueue: queueOfPlacement(placement),
    workflowTaskTimeout: COLOCATED_WORKFLOW_TASK_TIMEOUT,
    args: [{ ...rest, placement }],
  };
}
