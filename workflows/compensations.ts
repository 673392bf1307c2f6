/** A stack of compensations run in reverse order; pure, so it is safe in workflow code. */
import type { StepName, StepStatus } from '../contracts/orders.js';

/** How to undo one step; `run` must be idempotent and a no-op when the step never happened. */
export interface Compensation {
  step: StepName;
  run: () => Promise<unknown>;
}

/** Compensations registered before their step runs, undone last-in first-out. */
export class CompensationStack {
  private readonly stack: Compensation[] = [];

  push(compensation: Compensation): void {
    this.stack.push(compensation);
  }

  get size(): number {
    return this.stack.length;
  }

  /** Runs every compensation in reverse; each retries (by its activity policy) until it succeeds. */
  async runAll(
    onPhase: (step: StepName, phase: Extract<StepStatus, 'COMPENSATING' | 'COMPENSATED'>) => void,
  ) {
    while (this.stack.length > 0) {
      const compensation = this.stack.pop() as Compensation;
      onPhase(compensation.step, 'COMPENSATING');
      await compensation.run();
      onPhase(compensation.step, 'COMPENSATED');
    }
  }
}
