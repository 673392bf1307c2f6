/**
 * The API's side of the saga: starts orders idempotently, waits for, reads and cancels them. Closed orders are read
 * from the orders service's records (no worker, no replay, still there after retention); live ones with the saga's
 * query under a short deadline, falling back to the last recorded view.
 */
import { randomUUID } from 'node:crypto';
import {
  isGrpcServiceError,
  WorkflowExecutionAlreadyStartedError,
  type WorkflowHandle,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow/index.js';
import {
  ANONYMOUS_CLIENT_ID,
  CANCELLABLE_STATUSES,
  isTerminal,
  ORDER_STATUSES,
  ORDER_WORKFLOW_TYPE,
  type OrderInput,
  type OrderState,
  type OrderStatus,
  orderWorkflowId,
  type SagaPlacement,
} from '../../contracts/orders.js';
import { CUSTOMER_ID_KEY, ORDER_STATUS_KEY } from '../../contracts/search-attributes.js';
import type { Database } from '../../db/client.js';
import { type OrderRecord, readOrderRecord } from '../../db/queries/orders.js';
import { cancelOrderUpdate, getOrderQuery } from '../../workflows/definitions.js';
import type { orderSaga } from '../../workflows/order-saga.js';
import { initialOrderState } from '../../workflows/order-state.js';
import { placementStart } from '../../workflows/placement.js';
import type { Caller } from '../middleware/auth.js';
import { notFound, ProblemError } from '../problems/problem.js';
import { isTemporalUnavailable, type TemporalCalls } from '../temporal/calls.js';
import { orderIdFor, requestHash } from './idempotency.js';
import { orderLinks } from './links.js';
import { priceItems } from './pricing.js';
import type { CreateOrderRequest } from './schemas.js';

/** gRPC status code NOT_FOUND. */
const GRPC_NOT_FOUND = 5;

/** Shape of the ids the API hands out; anything else cannot be an order of ours. */
const ORDER_ID_PATTERN = /^ord_[0-9a-f]{32}$/;

/** Largest total an order may have: every total below it is exact in JSON numbers and in the 64-bit columns. */
export const MAX_ORDER_TOTAL_CENTS = Number.MAX_SAFE_INTEGER;

/** Who places an order and under which Idempotency-Key. */
export interface PlaceOrderOptions {
  idempotencyKey?: string | undefined;
  caller: Caller;
}

/** The order a POST maps to, and whether this request created it. */
export interface PlacedOrder {
  orderId: string;
  status: OrderStatus;
  /** False when an Idempotency-Key matched an order placed earlier (a replay). */
  created: boolean;
  /** The accepted view of an order this request started (what to answer when nothing newer can be read). */
  accepted?: OrderState;
}

/** Memo stored on each saga: what the idempotency check compares. */
interface OrderMemo {
  requestHash?: string;
  /** Random per POST: the run carries the nonce of the request that created it, which tells a replay apart. */
  requestNonce?: string;
}

/** Result of waiting for an order: `final` when the saga ended within the wait. */
export interface WaitedOrder {
  final: boolean;
  order: OrderState;
  /** The order is live and this is its last recorded (or accepted) view, not the saga's current one. */
  stale: boolean;
}

/** A view and where it came from: `stale` when the order is live but only its last recorded view could be read. */
export interface ReadOrder {
  order: OrderState;
  stale: boolean;
}

/** Deadlines of the gateway's reads, and where the orders it places run. */
export interface GatewayOptions {
  /** How long a live order's query may take before the recorded view is served instead (default 1 s). */
  liveQueryTimeoutMs?: number;
  /** The placement of the orders it starts (default distributed). */
  placement?: SagaPlacement;
}

/** Starts, reads and cancels order sagas, every Temporal call bounded by a deadline. */
export class OrdersGateway {
  constructor(
    private readonly calls: TemporalCalls,
    private readonly db: Database,
    options: GatewayOptions = {},
  ) {
    this.timings = { liveQueryTimeoutMs: options.liveQueryTimeoutMs ?? 1_000 };
    this.placement = options.placement ?? 'distributed';
  }

  private readonly timings: { liveQueryTimeoutMs: number };
  private readonly placement: SagaPlacement;

  /** Prices the request from the catalog and starts its saga (once per idempotency key and client). */
  async placeOrder(request: CreateOrderRequest, options: PlaceOrderOptions): Promise<PlacedOrder> {
    const items = await priceItems(this.db, request.items);
    const totalCents = items.reduce((sum, item) => sum + item.quantity * item.unitPriceCents, 0);
    if (totalCents > MAX_ORDER_TOTAL_CENTS) {
      throw new ProblemError('validation', `The order's total (${totalCents} cents) is over the limit`, {
        errors: [{ path: 'items', message: `total over ${MAX_ORDER_TOTAL_CENTS} cents` }],
      });
    }
    const hash = requestHash(request);
    const { clientId } = options.caller;
    const orderId = orderIdFor(clientId, options.idempotencyKey);
    // An order row outlives the saga's history: a key seen before must never start a second saga for the same id.
    const recorded = options.idempotencyKey ? await readOrderRecord(this.db, orderId) : null;
    if (recorded?.requestHash) return matchRecord(orderId, recorded, hash);
    if (recorded) return this.matchExisting(orderId, hash, null);
    const nonce = randomUUID();
    const input: OrderInput = {
      orderId,
      customerId: request.customerId,
      items,
      totalCents,
      paymentToken: request.payment.token,
      shippingAddress: request.shippingAddress,
      createdAt: new Date().toISOString(),
      requestHash: hash,
      clientId,
    };
    try {
      await this.calls.run(() =>
        this.calls.client.workflow.start<typeof orderSaga>(ORDER_WORKFLOW_TYPE, {
          ...placementStart(input, this.placement),
          workflowId: orderWorkflowId(orderId),
          // A saga with this id already running is another request's order: tell the two apart by their memo.
          // (A start whose answer was lost and that gRPC retries carries the same request id: the server answers
          // it with the run it started, so success always means this request started the saga.)
          workflowIdConflictPolicy: 'FAIL',
          // A finished one is too: never a second saga for an order id.
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          memo: { requestHash: hash, requestNonce: nonce } satisfies OrderMemo,
          typedSearchAttributes: [
            { key: ORDER_STATUS_KEY, value: 'PENDING' },
            { key: CUSTOMER_ID_KEY, value: request.customerId },
          ],
          staticSummary: `Order ${orderId} for ${request.customerId}: ${items.length} item(s), ${totalCents} cents`,
        }),
      );
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError)
        return this.matchExisting(orderId, hash, nonce);
      if (!isTemporalUnavailable(err)) throw err;
      // No answer in time: the start may still have reached Temporal. One short look tells whether it did.
      if (await this.startedByThisRequest(orderId, nonce)) {
        return {
          orderId,
          status: 'PENDING',
          created: true,
          accepted: initialOrderState(input, input.createdAt),
        };
      }
      // Still unknown: say which order it would be, so a client without an Idempotency-Key can look before it
      // places the order again.
      throw new ProblemError(
        'temporal-unavailable',
        `The workflow engine did not answer in time; order ${orderId} may or may not have been placed. GET its ` +
          'Location before placing it again (a retry with the same Idempotency-Key is always safe).',
        { orderId, headers: { location: orderLinks(orderId).self } },
      );
    }
    return {
      orderId,
      status: 'PENDING',
      created: true,
      accepted: initialOrderState(input, input.createdAt),
    };
  }

  /** Whether the saga of `orderId` runs and was started by the request that drew `nonce` (false if unknown). */
  private async startedByThisRequest(orderId: string, nonce: string): Promise<boolean> {
    try {
      const description = await this.calls.run(() => this.handleFor(orderId).describe(), {
        timeoutMs: this.timings.liveQueryTimeoutMs,
      });
      return ((description.memo ?? {}) as OrderMemo).requestNonce === nonce;
    } catch {
      return false;
    }
  }

  /** For a keyed request whose order exists: the same body gets the same order, a different body is refused. */
  private async matchExisting(orderId: string, hash: string, nonce: string | null): Promise<PlacedOrder> {
    let description: Awaited<ReturnType<WorkflowHandle['describe']>>;
    try {
      description = await this.calls.run(() => this.handleFor(orderId).describe());
    } catch (err) {
      if (!isNotFound(err)) throw err;
      throw new ProblemError(
        'idempotency-key-expired',
        `This Idempotency-Key was used for order ${orderId}, whose history is no longer retained; use a new key`,
      );
    }
    const memo = (description.memo ?? {}) as OrderMemo;
    if (memo.requestHash !== hash) {
      throw new ProblemError(
        'idempotency-key-reused',
        `This Idempotency-Key was first used for order ${orderId} with a different body`,
      );
    }
    const status = description.typedSearchAttributes.get(ORDER_STATUS_KEY);
    const known = (ORDER_STATUSES as readonly string[]).includes(status ?? '')
      ? (status as OrderStatus)
      : 'PENDING';
    return { orderId, status: known, created: nonce !== null && memo.requestNonce === nonce };
  }

  /**
   * Waits up to `seconds` for the saga's result (a long poll on its history, no polling loop), then reads the order.
   * The poll is aborted when the wait runs out or the client goes away. Never throws for an order that exists: when
   * nothing can be read it answers the accepted view of an order this request started, or null.
   */
  async waitForOrder(
    placed: PlacedOrder,
    seconds: number,
    caller: Caller,
    clientGone?: AbortSignal,
  ): Promise<WaitedOrder | null> {
    const waitMs = Math.round(seconds * 1000);
    const timeUp = AbortSignal.timeout(waitMs);
    const abort = clientGone ? AbortSignal.any([clientGone, timeUp]) : timeUp;
    try {
      const order = (await this.calls.run(() => this.handleFor(placed.orderId).result(), {
        timeoutMs: waitMs + this.calls.timeoutMs,
        signal: abort,
      })) as OrderState;
      if (isTerminal(order.status)) return { final: true, order, stale: false };
    } catch {
      // Ran out, the client left, the saga was terminated, or Temporal is unreachable: read what is known.
    }
    try {
      const { order, stale } = await this.readOrder(placed.orderId, caller);
      return { final: isTerminal(order.status), order, stale };
    } catch {
      return placed.accepted ? { final: false, order: placed.accepted, stale: true } : null;
    }
  }

  /** The order for its owner (or an admin): from the records once closed, else live; 404 when there is none. */
  async readOrder(orderId: string, caller: Caller): Promise<ReadOrder> {
    if (!ORDER_ID_PATTERN.test(orderId)) throw notFound(`No order ${orderId}`);
    let record: Awaited<ReturnType<typeof readOrderRecord>>;
    try {
      record = await readOrderRecord(this.db, orderId);
    } catch (err) {
      // The database is down: the saga itself may still answer for a live order (its state knows the owner).
      const live = await this.queryLive(orderId);
      if (live.kind === 'live' && mayRead(caller, live.order.clientId)) {
        return { order: live.order, stale: false };
      }
      throw err;
    }
    if (record && !mayRead(caller, record.clientId)) throw notFound(`No order ${orderId}`);
    if (record?.complete && isTerminal(record.status)) return { order: record.view, stale: false };
    const live = await this.queryLive(orderId);
    if (live.kind === 'live') {
      if (!record && !mayRead(caller, live.order.clientId)) throw notFound(`No order ${orderId}`);
      return { order: live.order, stale: false };
    }
    if (record) return { order: record.view, stale: !isTerminal(record.status) };
    if (live.kind === 'gone') throw notFound(`No order ${orderId}`);
    // Started but not recorded yet, and no worker answers: its start event holds the accepted order.
    const started = await this.startedView(orderId);
    if (!mayRead(caller, started.clientId)) throw notFound(`No order ${orderId}`);
    return { order: started, stale: true };
  }

  /**
   * The order's status if the caller may read it, by the rule of `readOrder` (404 otherwise): the recorded owner
   * answers without asking the saga; an order not recorded yet is read as `readOrder` reads it.
   */
  async readableOrder(orderId: string, caller: Caller): Promise<{ status: OrderStatus }> {
    if (!ORDER_ID_PATTERN.test(orderId)) throw notFound(`No order ${orderId}`);
    const record = await readOrderRecord(this.db, orderId).catch(() => null);
    if (record) {
      if (!mayRead(caller, record.clientId)) throw notFound(`No order ${orderId}`);
      return { status: record.status };
    }
    const { order } = await this.readOrder(orderId, caller);
    return { status: order.status };
  }

  /**
   * Asks the saga to cancel; `accepted` false means it was already cancelled. 409 once shipping started or the
   * order ended — decided from what is recorded when it already says so, without asking a worker.
   */
  async cancelOrder(orderId: string, caller: Caller): Promise<{ accepted: boolean; order: OrderState }> {
    const { order: current } = await this.readOrder(orderId, caller);
    if (current.status === 'CANCELLED') return { accepted: false, order: current };
    // Already being cancelled and past the point where a cancel does anything new: answer what is known.
    if (current.cancelRequested && !CANCELLABLE_STATUSES.includes(current.status)) {
      return { accepted: false, order: current };
    }
    // Statuses only move forward: one past the cancellable ones never becomes cancellable again.
    if (!CANCELLABLE_STATUSES.includes(current.status) && !current.cancelRequested) {
      throw notCancellable(orderId, current.status);
    }
    try {
      const result = await this.calls.run(() => this.handleFor(orderId).executeUpdate(cancelOrderUpdate));
      return { accepted: true, order: { ...current, status: result.status, cancelRequested: true } };
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError || isNotFound(err)) {
        // Rejected (shipping started meanwhile) or ended between our read and the update: answer from its state.
        const { order: latest } = await this.readOrder(orderId, caller);
        if (latest.status === 'CANCELLED') return { accepted: false, order: latest };
        throw notCancellable(orderId, latest.status);
      }
      if (isNoWorker(err)) {
        // The update may still be delivered when a worker returns (Temporal keeps it): retrying is safe.
        throw new ProblemError(
          'order-unavailable',
          `No worker of order ${orderId}'s saga took the cancel in time; it may still be carried out when one ` +
            'returns. Retrying the cancel is safe (it is idempotent).',
        );
      }
      throw err;
    }
  }

  /** The saga's own view through its query, or why it could not be had. */
  private async queryLive(
    orderId: string,
  ): Promise<{ kind: 'live'; order: OrderState } | { kind: 'gone' } | { kind: 'unanswered' }> {
    try {
      const order = await this.calls.run(() => this.handleFor(orderId).query(getOrderQuery), {
        timeoutMs: this.timings.liveQueryTimeoutMs,
      });
      return { kind: 'live', order };
    } catch (err) {
      if (isNotFound(err)) return { kind: 'gone' };
      // No worker, a timeout, or a query the run cannot answer: the records (or the start event) answer instead.
      return { kind: 'unanswered' };
    }
  }

  /** The accepted view of a started order, rebuilt from its start event (history needs no worker). */
  private async startedView(orderId: string): Promise<OrderState> {
    const { client } = this.calls;
    const response = await this.calls
      .run(() =>
        client.workflowService.getWorkflowExecutionHistory({
          namespace: client.options.namespace,
          execution: { workflowId: orderWorkflowId(orderId) },
          maximumPageSize: 1,
        }),
      )
      .catch((err: unknown) => {
        if (isNotFound(err)) throw notFound(`No order ${orderId}`);
        throw unservedOrder(orderId);
      });
    const started = response.history?.events?.[0]?.workflowExecutionStartedEventAttributes;
    const input = started
      ? await decodeFromPayloadsAtIndex<OrderInput>(
          client.options.loadedDataConverter,
          0,
          started.input?.payloads,
        ).catch(() => undefined)
      : undefined;
    // Not an order input we can read (another key, a foreign workflow): nothing can answer for it now.
    if (!input?.orderId || !Array.isArray(input.items)) throw unservedOrder(orderId);
    return initialOrderState(input, input.createdAt);
  }

  private handleFor(orderId: string): WorkflowHandle<typeof orderSaga> {
    return this.calls.client.workflow.getHandle<typeof orderSaga>(orderWorkflowId(orderId));
  }
}

/** An Idempotency-Key replay answered from the order's row: same body, same order; another body is refused. */
function matchRecord(orderId: string, record: OrderRecord, hash: string): PlacedOrder {
  if (record.requestHash !== hash) {
    throw new ProblemError(
      'idempotency-key-reused',
      `This Idempotency-Key was first used for order ${orderId} with a different body`,
    );
  }
  return { orderId, status: record.status, created: false };
}

/** Whether the caller may see an order of `owner`: its own, or any for an admin. */
export function mayRead(caller: Caller, owner: string | undefined): boolean {
  // Runs started before orders had owners carry none: they belong to the anonymous client.
  return caller.role === 'admin' || caller.clientId === (owner ?? ANONYMOUS_CLIENT_ID);
}

/** 503 for a live order nothing can answer for: no worker polls its queue and nothing was recorded. */
function unservedOrder(orderId: string): ProblemError {
  return new ProblemError(
    'order-unavailable',
    `Order ${orderId} exists, but its saga is not being served right now; retry later`,
  );
}

function notCancellable(orderId: string, status: OrderStatus): ProblemError {
  const why =
    status === 'SHIPPING' || status === 'COMPLETED'
      ? 'shipping has started'
      : status === 'COMPENSATING' || status === 'COMPENSATION_FAILED' || status === 'FAILED'
        ? 'it already failed and is being (or was) compensated'
        : `it is ${status}`;
  return new ProblemError('order-not-cancellable', `Order ${orderId} cannot be cancelled: ${why}`, {
    orderStatus: status,
  });
}

/** gRPC FAILED_PRECONDITION: the server has no poller for the queue ("no poller seen"). */
const GRPC_FAILED_PRECONDITION = 9;

/** True when no worker answered: none polls the queue, or none did within the deadline. */
function isNoWorker(err: unknown): boolean {
  if (isTemporalUnavailable(err)) return true;
  const cause = err instanceof Error ? (err.cause ?? err) : err;
  return isGrpcServiceError(cause) && cause.code === GRPC_FAILED_PRECONDITION;
}

function isNotFound(err: unknown): boolean {
  if (err instanceof WorkflowNotFoundError) return true;
  const cause = err instanceof Error ? (err.cause ?? err) : err;
  return isGrpcServiceError(cause) && cause.code === GRPC_NOT_FOUND;
}
