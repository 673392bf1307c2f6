/**
 * One subgraph's circuit breaker. Closed: calls go through; `failures` failed calls in a row open it. Open: calls
 * fail at once (no socket, no waiting) for `openMs`. Then half-open: one trial call goes through while the others
 * still fail fast; its success closes the circuit, its failure opens it for another `openMs`.
 */

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitPolicy {
  failures: number;
  openMs: number;
}

export class CircuitBreaker {
  private consecutiveFailures = 0;
  private openedAt: number | undefined;
  private trialInFlight = false;

  constructor(
    private readonly policy: CircuitPolicy,
    private readonly now: () => number = Date.now,
  ) {}

  get state(): CircuitState {
    if (this.openedAt === undefined) return 'closed';
    return this.now() - this.openedAt >= this.policy.openMs ? 'half-open' : 'open';
  }

  /** Whether a call may go out now; a true in half-open state makes this call the trial. */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.trialInFlight) return false;
    this.trialInFlight = true;
    return true;
  }

  succeeded(): void {
    this.consecutiveFailures = 0;
    this.openedAt = undefined;
    this.trialInFlight = false;
  }

  failed(): void {
    this.consecutiveFailures += 1;
    if (this.trialInFlight || this.consecutiveFailures >= this.policy.failures) this.openedAt = this.now();
    this.trialInFlight = false;
  }
}
