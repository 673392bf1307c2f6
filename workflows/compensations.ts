/** A stack of compensations run in reverse order; pure, so it is safe in workflow code. */
import type { StepName, StepStatus } from '../contracts/orders.js';

/** How to undo one step; `run` must be idempotent and a no-op when the step never happened. */
export interface Compensation {
  step: StepName;
  run: () => Promise<unknown>;
}

/** Phases of a compensation as shown in the order's steps. */
export type CompensationPhase = Extract<StepStatus, 'COMPENSATING' | 'COMPENSATED' | 'COMPENSATION_FAILED'>;

/**
 * Decides what a failed compensation means: return to go on with the others (the failure is kept for an operator),
 * throw to abort the run (the behaviour of sagas started before failures were isolated).
 */
export type CompensationFailureHandler = (compensation: Compensation, error: unknown) => void;

/** Compensations registered before their step runs, undone last-in first-out. */
export class CompensationStack {
  private readonly stack: Compensation[] = [];

  push(compensation: Compensation): void {
    this.stack.push(compensation);
  }

  /** Whether the step's compensation is registered (and has not run yet). */
  has(step: StepName): boolean {
    return this.stack.some((compensation) => compensation.step === step);
  }

  get size(): number {
    return this.stack.length;
  }

  /**
   * Runs every compensation in reverse; each retries (by its activity policy) until it succeeds or fails for good.
   * A compensation that failed for good does not stop the others when `onFailure` returns; it is returned, in the
   * order it ran, so the saga can hold the order for an operator and run it again later.
   */
  async runAll(
    onPhase: (step: StepName, phase: CompensationPhase, error?: string) => void,
    onFailure: CompensationFailureHandler,
  ): Promise<Compensation[]> {
    const failed: Compensation[] = [];
    while (this.stack.length > 0) {
      const compensation = this.stack.pop() as Compensation;
      onPhase(compensation.step, 'COMPENSATING');
      try {
        await compensation.run();
      } catch (err) {
        onFailure(compensation, err);
        onPhase(compensation.step, 'COMPENSATION_FAILED', messageOf(err));
        failed.push(compensation);
        continue;
      }
      onPhase(compensation.step, 'COMPENSATED');
    }
    return failed;
  }
}

function messageOf(err: unknown): string {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  return cause instanceof Error ? cause.message : String(cause);
}
