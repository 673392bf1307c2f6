/** The API's side of the saga: starts orders idempotently, waits for, reads and cancels them on Temporal. */
import { randomUUID } from 'node:crypto';
import {
  isGrpcServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  type WorkflowHandle,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import {
  isTerminal,
  ORDER_STATUSES,
  ORDER_WORKFLOW_TYPE,
  ORDERS_QUEUE,
  type OrderInput,
  type OrderState,
  type OrderStatus,
  orderWorkflowId,
} from '../contracts/orders.js';
import { CUSTOMER_ID_KEY, ORDER_STATUS_KEY } from '../contracts/search-attributes.js';
import type { Database } from '../db/client.js';
import { cancelOrderUpdate, getOrderQuery } from '../workflows/definitions.js';
import type { orderSaga } from '../workflows/order-saga.js';
import { orderIdFor, requestHash } from './idempotency.js';
import { priceItems } from './order-pricing.js';
import { orderRecordExists } from './order-records.js';
import { notFound, ProblemError } from './problem.js';
import type { CreateOrderRequest } from './schemas/orders.js';
import type { TemporalCalls } from './temporal-calls.js';

/** gRPC status code NOT_FOUND. */
const GRPC_NOT_FOUND = 5;

/** Shape of the ids the API hands out; anything else cannot be an order of ours. */
const ORDER_ID_PATTERN = /^ord_[0-9a-f]{32}$/;

/** Who places an order and under which Idempotency-Key. */
export interface PlaceOrderOptions {
  idempotencyKey?: string | undefined;
  /** Who is calling (API key fingerprint); idempotency keys are scoped per client. */
  clientId: string;
}

/** The order a POST maps to, and whether this request created it. */
export interface PlacedOrder {
  orderId: string;
  status: OrderStatus;
  /** False when an Idempotency-Key matched an order placed earlier (a replay). */
  created: boolean;
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
}

/** Starts, reads and cancels order sagas on Temporal, every call bounded by a deadline. */
export class OrdersGateway {
  constructor(
    private readonly calls: TemporalCalls,
    private readonly db: Database,
  ) {}

  /** Prices the request from the catalog and starts its saga (once per idempotency key). */
  async placeOrder(request: CreateOrderRequest, options: PlaceOrderOptions): Promise<PlacedOrder> {
    const items = await priceItems(this.db, request.items);
    const hash = requestHash(request);
    const orderId = orderIdFor(options.clientId, options.idempotencyKey);
    // An order row outlives the saga's history: a key seen before must never start a second saga for the same id.
    if (options.idempotencyKey && (await orderRecordExists(this.db, orderId))) {
      return this.matchExisting(orderId, hash, null);
    }
    const nonce = randomUUID();
    const input: OrderInput = {
      orderId,
      customerId: request.customerId,
      items,
      totalCents: items.reduce((sum, item) => sum + item.quantity * item.unitPriceCents, 0),
      paymentToken: request.payment.token,
      shippingAddress: request.shippingAddress,
      createdAt: new Date().toISOString(),
      requestHash: hash,
    };
    try {
      await this.calls.run(() =>
        this.calls.client.workflow.start<typeof orderSaga>(ORDER_WORKFLOW_TYPE, {
          taskQueue: ORDERS_QUEUE,
          workflowId: orderWorkflowId(orderId),
          args: [input],
          // A running saga with this id is the same order (also when gRPC retries a start whose answer was lost).
          workflowIdConflictPolicy: 'USE_EXISTING',
          // A finished one is too: never a second saga for an order id.
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          memo: { requestHash: hash, requestNonce: nonce } satisfies OrderMemo,
          typedSearchAttributes: [
            { key: ORDER_STATUS_KEY, value: 'PENDING' },
            { key: CUSTOMER_ID_KEY, value: request.customerId },
          ],
          staticSummary: `Order ${orderId} for ${request.customerId}: ${items.length} item(s), ${input.totalCents} cents`,
        }),
      );
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    if (!options.idempotencyKey) return { orderId, status: 'PENDING', created: true };
    return this.matchExisting(orderId, hash, nonce);
  }

  /** For a keyed request: the same body gets the same order, a different body is refused. */
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
   * Waits up to `seconds` for the saga's result (a long poll on its history, no polling loop). The poll is aborted
   * when the wait runs out or the client goes away, so timed-out waits never pile up on the server.
   */
  async waitForOrder(orderId: string, seconds: number, clientGone?: AbortSignal): Promise<WaitedOrder> {
    const waitMs = Math.round(seconds * 1000);
    const timeUp = AbortSignal.timeout(waitMs);
    const abort = clientGone ? AbortSignal.any([clientGone, timeUp]) : timeUp;
    try {
      const order = (await this.calls.run(() => this.handleFor(orderId).result(), {
        timeoutMs: waitMs + this.calls.timeoutMs,
        signal: abort,
      })) as OrderState;
      return { final: true, order };
    } catch (err) {
      // Terminated or timed out by an operator: closed, so its last state is final.
      if (err instanceof WorkflowFailedError) return { final: true, order: await this.getOrder(orderId) };
      if (!abort.aborted) throw err;
    }
    return { final: false, order: await this.getOrder(orderId) };
  }

  /** The live (or final) view of an order; 404 when there is no such order. */
  async getOrder(orderId: string): Promise<OrderState> {
    if (!ORDER_ID_PATTERN.test(orderId)) throw notFound(`No order ${orderId}`);
    try {
      return await this.calls.run(() => this.handleFor(orderId).query(getOrderQuery));
    } catch (err) {
      if (isNotFound(err)) throw notFound(`No order ${orderId}`);
      throw err;
    }
  }

  /** Asks the saga to cancel; `accepted` false means it was already cancelled. 409 once shipping started or ended. */
  async cancelOrder(orderId: string): Promise<{ accepted: boolean; order: OrderState }> {
    const current = await this.getOrder(orderId);
    if (current.status === 'CANCELLED') return { accepted: false, order: current };
    if (isTerminal(current.status)) throw notCancellable(orderId, current.status);
    try {
      const result = await this.calls.run(() => this.handleFor(orderId).executeUpdate(cancelOrderUpdate));
      return { accepted: true, order: { ...current, status: result.status, cancelRequested: true } };
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) {
        throw notCancellable(orderId, (await this.getOrder(orderId)).status);
      }
      if (!isNotFound(err)) throw err;
      // The saga ended between our read and the update: answer from its final state.
      const final = await this.getOrder(orderId);
      if (final.status === 'CANCELLED') return { accepted: false, order: final };
      throw notCancellable(orderId, final.status);
    }
  }

  private handleFor(orderId: string): WorkflowHandle<typeof orderSaga> {
    return this.calls.client.workflow.getHandle<typeof orderSaga>(orderWorkflowId(orderId));
  }
}

function notCancellable(orderId: string, status: OrderStatus): ProblemError {
  const why =
    status === 'SHIPPING' || status === 'COMPLETED'
      ? 'shipping has started'
      : status === 'COMPENSATING' || status === 'FAILED'
        ? 'it already failed and is being (or was) compensated'
        : `it is ${status}`;
  return new ProblemError('order-not-cancellable', `Order ${orderId} cannot be cancelled: ${why}`, {
    orderStatus: status,
  });
}

function isNotFound(err: unknown): boolean {
  if (err instanceof WorkflowNotFoundError) return true;
  const cause = err instanceof Error ? (err.cause ?? err) : err;
  return isGrpcServiceError(cause) && cause.code === GRPC_NOT_FOUND;
}
