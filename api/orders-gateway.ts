/** The API's side of the saga: prices an order from the catalog, starts it idempotently, reads and cancels it. */
import { createHash, randomUUID } from 'node:crypto';
import {
  type Client,
  isGrpcServiceError,
  WorkflowExecutionAlreadyStartedError,
  type WorkflowHandle,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import { getProductsBySku } from '../activities/catalog.js';
import {
  type CancelResult,
  isTerminal,
  ORDER_STATUSES,
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
import { notFound, ProblemError } from './problem.js';
import type { CreateOrderRequest } from './schemas.js';

/** gRPC status code NOT_FOUND. */
const GRPC_NOT_FOUND = 5;

/** Shape of the ids the API hands out; anything else cannot be an order of ours. */
const ORDER_ID_PATTERN = /^ord_[0-9a-f]{32}$/;

export interface PlaceOrderOptions {
  idempotencyKey?: string;
  /** Who is calling (API key fingerprint); idempotency keys are scoped per client. */
  clientId: string;
}

export interface PlacedOrder {
  orderId: string;
  status: OrderStatus;
  /** False when an Idempotency-Key matched an order placed earlier. */
  created: boolean;
}

/** Starts, reads and cancels order sagas on Temporal. */
export class OrdersGateway {
  constructor(
    private readonly client: Client,
    private readonly db: Database,
  ) {}

  /** Prices the request from the catalog and starts its saga (once per idempotency key). */
  async placeOrder(request: CreateOrderRequest, options: PlaceOrderOptions): Promise<PlacedOrder> {
    const skus = [...new Set(request.items.map((item) => item.sku))];
    const catalog = await getProductsBySku(this.db, skus);
    const unknown = request.items
      .map((item, index) => ({ item, index }))
      .filter(({ item }) => !catalog.has(item.sku));
    if (unknown.length > 0) {
      throw new ProblemError(
        422,
        'unknown-sku',
        'Unknown SKU',
        `No product with SKU ${unknown.map(({ item }) => item.sku).join(', ')}`,
        { errors: unknown.map(({ index }) => ({ path: `items.${index}.sku`, message: 'unknown SKU' })) },
      );
    }
    const items = request.items.map((item) => ({
      sku: item.sku,
      quantity: item.quantity,
      unitPriceCents: catalog.get(item.sku)?.priceCents ?? 0,
    }));
    const requestHash = sha256(canonicalJson(request));
    const orderId = options.idempotencyKey
      ? `ord_${sha256(`${options.clientId}\u0000${options.idempotencyKey}`).slice(0, 32)}`
      : `ord_${randomUUID().replaceAll('-', '')}`;
    const input: OrderInput = {
      orderId,
      customerId: request.customerId,
      items,
      totalCents: items.reduce((sum, item) => sum + item.quantity * item.unitPriceCents, 0),
      paymentToken: request.payment.token,
      shippingAddress: request.shippingAddress,
      createdAt: new Date().toISOString(),
      requestHash,
    };
    const workflowId = orderWorkflowId(orderId);
    try {
      await this.client.workflow.start<typeof orderSaga>('orderSaga', {
        taskQueue: ORDERS_QUEUE,
        workflowId,
        args: [input],
        // An existing run for this id is the same order: never a second workflow.
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        memo: { requestHash },
        typedSearchAttributes: [
          { key: ORDER_STATUS_KEY, value: 'PENDING' },
          { key: CUSTOMER_ID_KEY, value: request.customerId },
        ],
        staticSummary: `Order ${orderId} for ${request.customerId}: ${items.length} item(s), ${input.totalCents} cents`,
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    if (!options.idempotencyKey) return { orderId, status: 'PENDING', created: true };
    return this.matchExisting(orderId, requestHash);
  }

  /** For an idempotent retry: the same body gets the same order, a different body is refused. */
  private async matchExisting(orderId: string, requestHash: string): Promise<PlacedOrder> {
    const description = await this.client.workflow.getHandle(orderWorkflowId(orderId)).describe();
    const memo = (description.memo ?? {}) as { requestHash?: string };
    if (memo.requestHash !== requestHash) {
      throw new ProblemError(
        422,
        'idempotency-key-reused',
        'Idempotency-Key reused with a different request',
        `This Idempotency-Key was first used for order ${orderId} with a different body`,
      );
    }
    const status = description.typedSearchAttributes.get(ORDER_STATUS_KEY);
    const known = (ORDER_STATUSES as readonly string[]).includes(status ?? '')
      ? (status as OrderStatus)
      : 'PENDING';
    const created = Date.now() - description.startTime.getTime() < 2_000 && known === 'PENDING';
    return { orderId, status: known, created };
  }

  /** Waits up to `seconds` for the order to end; returns its final view, or null if it is still running. */
  async waitForOrder(orderId: string, seconds: number): Promise<OrderState | null> {
    if (seconds <= 0) return null;
    const handle = this.handleFor(orderId);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), seconds * 1000);
    });
    try {
      return await Promise.race([handle.result() as Promise<OrderState>, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The live (or final) view of an order; 404 when there is no such order. */
  async getOrder(orderId: string): Promise<OrderState> {
    if (!ORDER_ID_PATTERN.test(orderId)) throw notFound(`No order ${orderId}`);
    try {
      return await this.handleFor(orderId).query(getOrderQuery);
    } catch (err) {
      if (isNotFound(err)) throw notFound(`No order ${orderId}`);
      throw err;
    }
  }

  /** Asks the saga to cancel; 409 once shipping started or the order ended otherwise. */
  async cancelOrder(orderId: string): Promise<{ result: CancelResult; order: OrderState }> {
    const current = await this.getOrder(orderId);
    if (isTerminal(current.status)) {
      if (current.status === 'CANCELLED')
        return { result: { accepted: true, status: 'CANCELLED' }, order: current };
      throw notCancellable(orderId, current.status);
    }
    try {
      const result = await this.handleFor(orderId).executeUpdate(cancelOrderUpdate);
      return { result, order: { ...current, status: result.status, cancelRequested: true } };
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError)
        throw notCancellable(orderId, (await this.getOrder(orderId)).status);
      if (isNotFound(err)) {
        // The saga ended between our read and the update: answer from its final state.
        const final = await this.getOrder(orderId);
        if (final.status === 'CANCELLED')
          return { result: { accepted: true, status: 'CANCELLED' }, order: final };
        throw notCancellable(orderId, final.status);
      }
      throw err;
    }
  }

  private handleFor(orderId: string): WorkflowHandle<typeof orderSaga> {
    return this.client.workflow.getHandle<typeof orderSaga>(orderWorkflowId(orderId));
  }
}

function notCancellable(orderId: string, status: OrderStatus): ProblemError {
  const why =
    status === 'SHIPPING' || status === 'COMPLETED'
      ? 'shipping has started'
      : status === 'COMPENSATING' || status === 'FAILED'
        ? 'it already failed and is being (or was) compensated'
        : `it is ${status}`;
  return new ProblemError(
    409,
    'order-not-cancellable',
    'Order can no longer be cancelled',
    `Order ${orderId} cannot be cancelled: ${why}`,
  );
}

function isNotFound(err: unknown): boolean {
  if (err instanceof WorkflowNotFoundError) return true;
  const cause = err instanceof Error ? (err.cause ?? err) : err;
  return isGrpcServiceError(cause) && cause.code === GRPC_NOT_FOUND;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** JSON with sorted keys, so the same body always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([key, inner]) => `${JSON.stringify(key)}:${canonicalJson(inner)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
