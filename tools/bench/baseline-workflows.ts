/** The floor: the naive shape of the saga — five no-op activities in sequence — to measure Temporal's own cost. */
import { proxyActivities } from '@temporalio/workflow';

/** Task queue of the floor worker, apart from the services' queues. */
export const FLOOR_QUEUE = 'bench-floor';

const { noop } = proxyActivities<{ noop(step: number): Promise<void> }>({
  taskQueue: FLOOR_QUEUE,
  startToCloseTimeout: '10 seconds',
});

export async function floorWorkflow(): Promise<void> {
  for (let step = 1; step <= 5; step++) await noop(step);
}
