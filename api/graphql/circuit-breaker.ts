/**
 * One subgraph's circuit breaker. Closed: calls go through; `failures` failed calls in a row open it. Open: calls
 * fail at once (no socket, no waiting) for `openMs`. Then half-open: one trial call goes through while the others
 * still fail fast; its success closes the circuit, its failure opens it for another `openMs`. Each call holds a
 * ticket of the circuit's generation (bumped at every open and close): a late answer of a call made before the last
 * change counts for nothing, so it can neither reopen nor close the circuit nor start a second trial.
 */

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitPolicy {
  failures: number;
  openMs: number;
}

/** The right to make one call, and what it was made under. */
export interface CircuitTicket {
  generation: number;
  trial: boolean;
}

export class CircuitBreaker {
  private consecutiveFailures = 0;
  private openedAt: number | undefined;
  private trialInFlight = false;
  private generation = 0;

  constructor(
    private readonly policy: CircuitPolicy,
    private readonly now: () => number = Date.now,
  ) {}

  get state(): CircuitState {
    if (this.openedAt === undefined) return 'closed';
    return this.now() - this.openedAt >= this.policy.openMs ? 'half-open' : 'open';
  }

  /** A ticket when a call may go out now (in half-open state, the one trial); undefined when it must fail fast. */
  tryAcquire(): CircuitTicket | undefined {
    const state = this.state;
    if (state === 'closed') return { generation: this.generation, trial: false };
    if (state === 'open' || this.trialInFlight) return undefined;
    this.trialInFlight = true;
    return { generation: this.generation, trial: true };
  }

  succeeded(ticket: CircuitTicket): void {
    if (ticket.generation !== this.generation) return;
    if (ticket.trial || this.openedAt === undefined) {
      if (this.openedAt !== undefined) this.generation += 1;
      this.consecutiveFailures = 0;
      this.openedAt = undefined;
      this.trialInFlight = false;
    }
  }

  failed(ticket: CircuitTicket): void {
    if (ticket.generation !== this.generation) return;
    this.consecutiveFailures += 1;
    if (ticket.trial || this.consecutiveFailures >= this.policy.failures) {
      this.openedAt = this.now();
      this.generation += 1;
      this.trialInFlight = false;
    }
  }

  /** A call that ended without telling anything about the subgraph (its client went away): frees a trial. */
  released(ticket: CircuitTicket): void {
    if (ticket.trial && ticket.generation === this.generation) this.trialInFlight = false;
  }
}
