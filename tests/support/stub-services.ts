/** Stub activities for workflow tests: record every call, fail on demand, or hold a step until released. */
import { Context } from '@temporalio/activity';
import type { InventoryActivities, OrderRef, ReserveStockInput } from '../../contracts/inventory.js';
import type { OrdersActivities, SetOrderStatusInput } from '../../contracts/orders.js';
import type { ChargePaymentInput, PaymentsActivities } from '../../contracts/payments.js';
import type { ShippingActivities } from '../../contracts/shipping.js';

type ActivityName =
  | 'createOrderRecord'
  | 'reserveStock'
  | 'releaseStock'
  | 'commitStock'
  | 'chargePayment'
  | 'refundPayment'
  | 'createShipment'
  | 'cancelShipment';

const COMPENSATIONS: ActivityName[] = ['releaseStock', 'refundPayment', 'cancelShipment'];

/** A failure to throw for an attempt, or null to let the attempt succeed. */
type FailurePlan = (attempt: number) => Error | null;

export interface Gate {
  /** Resolves when the held activity has started. */
  reached: Promise<void>;
  release(): void;
}

/** A gate: `register` gets the stub's side (call `reached`, await `released`), the test gets the other. */
function openGate(register: (gate: { reached: () => void; released: Promise<void> }) => void): Gate {
  let reached!: () => void;
  let release!: () => void;
  const reachedPromise = new Promise<void>((resolve) => {
    reached = resolve;
  });
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  register({ reached, released });
  return { reached: reachedPromise, release };
}

export class StubServices {
  /** Names of activities in the order their successful attempts ran. */
  readonly calls: string[] = [];
  readonly statuses: string[] = [];
  /** Every status write as the saga sent it (seq, failure, the whole view). */
  readonly statusWrites: SetOrderStatusInput[] = [];
  /** The input of every successful step attempt, in the order they ran. */
  readonly inputs: Array<{ name: ActivityName; input: unknown }> = [];
  private readonly statusGates = new Map<string, { reached: () => void; released: Promise<void> }>();
  private readonly results = new Map<ActivityName, (input: unknown) => unknown>();
  readonly attempts: Partial<Record<ActivityName, number>> = {};
  private readonly plans = new Map<ActivityName, FailurePlan>();
  private readonly gates = new Map<ActivityName, { reached: () => void; released: Promise<void> }>();

  failWith(name: ActivityName, plan: FailurePlan): void {
    this.plans.set(name, plan);
  }

  /** Makes the status writes for which `refuse` returns an error fail with it (e.g. a view the database refuses). */
  failStatusWrites(refuse: (input: SetOrderStatusInput) => Error | null): void {
    this.refuseStatusWrite = refuse;
  }

  private refuseStatusWrite: (input: SetOrderStatusInput) => Error | null = () => null;

  /** Makes `name` answer with `result(input)` instead of its usual success (e.g. a tombstone that won). */
  answerWith(name: ActivityName, result: (input: unknown) => unknown): void {
    this.results.set(name, result);
  }

  hold(name: ActivityName): Gate {
    return openGate((gate) => this.gates.set(name, gate));
  }

  /** Holds the (first) write of `status` until released: a cancel can then land between two steps. */
  holdStatus(status: string): Gate {
    return openGate((gate) => this.statusGates.set(status, gate));
  }

  /** The inputs `name` ran with. */
  inputsOf(name: ActivityName): unknown[] {
    return this.inputs.filter((call) => call.name === name).map((call) => call.input);
  }

  compensations(): string[] {
    return this.calls.filter((name) => (COMPENSATIONS as string[]).includes(name));
  }

  private async step<T>(name: ActivityName, result: () => T, input?: unknown): Promise<T> {
    const attempt = Context.current().info.attempt;
    this.attempts[name] = attempt;
    const gate = this.gates.get(name);
    if (gate) {
      gate.reached();
      await gate.released;
    }
    const failure = this.plans.get(name)?.(attempt);
    if (failure) throw failure;
    this.calls.push(name);
    this.inputs.push({ name, input });
    const override = this.results.get(name);
    return override ? (override(input) as T) : result();
  }

  readonly orders: OrdersActivities = {
    createOrderRecord: async (input) => {
      await this.step('createOrderRecord', () => undefined, input);
    },
    setOrderStatus: async (input: SetOrderStatusInput) => {
      const gate = this.statusGates.get(input.status);
      if (gate) {
        this.statusGates.delete(input.status);
        gate.reached();
        await gate.released;
      }
      const refused = this.refuseStatusWrite(input);
      if (refused) throw refused;
      this.statuses.push(input.status);
      this.statusWrites.push(input);
    },
  };

  readonly inventory: InventoryActivities = {
    reserveStock: (input: ReserveStockInput) =>
      this.step(
        'reserveStock',
        () => ({
          orderId: input.orderId,
          status: 'RESERVED' as const,
          changed: true,
        }),
        input,
      ),
    releaseStock: (input: OrderRef) =>
      this.step(
        'releaseStock',
        () => ({
          orderId: input.orderId,
          status: 'RELEASED' as const,
          changed: true,
        }),
        input,
      ),
    commitStock: (input: OrderRef) =>
      this.step(
        'commitStock',
        () => ({
          orderId: input.orderId,
          status: 'COMMITTED' as const,
          changed: true,
        }),
        input,
      ),
  };

  readonly payments: PaymentsActivities = {
    chargePayment: (input: ChargePaymentInput) =>
      this.step(
        'chargePayment',
        () => ({
          orderId: input.orderId,
          status: 'CHARGED' as const,
          chargeId: `ch_${input.orderId}`,
          amountCents: input.amountCents,
          changed: true,
        }),
        input,
      ),
    refundPayment: (input: OrderRef) =>
      this.step(
        'refundPayment',
        () => ({
          orderId: input.orderId,
          status: 'REFUNDED' as const,
          amountCents: 0,
          changed: true,
        }),
        input,
      ),
  };

  readonly shipping: ShippingActivities = {
    createShipment: (input) =>
      this.step(
        'createShipment',
        () => ({
          orderId: input.orderId,
          status: 'CREATED' as const,
          trackingId: `trk_${input.orderId}`,
          changed: true,
        }),
        input,
      ),
    cancelShipment: (input) =>
      this.step(
        'cancelShipment',
        () => ({
          orderId: input.orderId,
          status: 'CANCELLED' as const,
          trackingId: null,
          changed: true,
        }),
        input,
      ),
  };
}
