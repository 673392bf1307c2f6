/** Contract of the orders service: the saga's input, its live state, and the orders activities. */

/** Task queue polled by the orders worker (saga workflows + orders activities). */
export const ORDERS_QUEUE = 'orders';

/**
 * Task queue of colocated orders: polled only by a worker process that hosts all four services, which runs the
 * saga and every service's steps in one process (as local activities, no dispatch through other queues).
 */
export const COLOCATED_QUEUE = 'orders-colocated';

/**
 * Where an order's steps run: `distributed`, each service's steps on its own queue and worker (production);
 * `colocated`, all in the one process that runs the saga. Fixed per order in its input (recorded in its history,
 * so replay takes the same path), and routed by the queue it is started on (see `workflows/placement.ts`).
 */
export const SAGA_PLACEMENTS = ['distributed', 'colocated'] as const;
export type SagaPlacement = (typeof SAGA_PLACEMENTS)[number];

/** The queue an order of `placement` is started on: only a worker that has every step polls the colocated one. */
export function queueOfPlacement(placement: SagaPlacement): string {
  return placement === 'colocated' ? COLOCATED_QUEUE : ORDERS_QUEUE;
}

/**
 * Every status an order moves through, in saga order; the last three are terminal. `COMPENSATION_FAILED`: a
 * compensation could not succeed (a non-retryable error); the saga waits for an operator to retry or resolve it.
 */
export const ORDER_STATUSES = [
  'PENDING',
  'RESERVING',
  'CHARGING',
  'SHIPPING',
  'COMPENSATING',
  'COMPENSATION_FAILED',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** Statuses after which an order never changes again. */
export const TERMINAL_STATUSES: readonly OrderStatus[] = ['COMPLETED', 'FAILED', 'CANCELLED'];

/** Statuses in which a cancel request is still accepted (no shipment exists yet). */
export const CANCELLABLE_STATUSES: readonly OrderStatus[] = ['PENDING', 'RESERVING', 'CHARGING'];

export function isTerminal(status: OrderStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** How far along an order is: the forward path, undoing it, the end. An order never moves to a lower stage. */
function stageOf(status: OrderStatus): number {
  if (isTerminal(status)) return 2;
  return status === 'COMPENSATING' || status === 'COMPENSATION_FAILED' ? 1 : 0;
}

/**
 * Whether a status write replaces the recorded one: a later stage always does, whatever its seq (a workflow task
 * lost after its local status writes ran leaves a record ahead of the seq its retry counts from); within a stage
 * only a higher seq does, so a late retry of an older write never moves the order back; a terminal status is final.
 */
export function supersedes(
  recorded: { status: OrderStatus; statusSeq: number },
  write: { status: OrderStatus; seq: number },
): boolean {
  const [from, to] = [stageOf(recorded.status), stageOf(write.status)];
  // An end is final: a second terminal write (a retried task's, or a lost task's landing late) changes nothing.
  return to > from || (to === from && to < 2 && write.seq > recorded.statusSeq);
}

/** The saga steps shown in the order view, each owned by one service. */
export const STEP_NAMES = ['reserveStock', 'chargePayment', 'createShipment', 'commitStock'] as const;
export type StepName = (typeof STEP_NAMES)[number];

/** Lifecycle of one step as shown to clients. */
export type StepStatus =
  | 'RUNNING'
  | 'SUCCEEDED'
  | 'FAILED'
  | 'COMPENSATING'
  | 'COMPENSATED'
  /** The compensation failed non-retryably; an operator retries or resolves it (see docs/OBSERVABILITY.md, "Runbook: orders awaiting an operator"). */
  | 'COMPENSATION_FAILED';

export interface OrderItem {
  sku: string;
  quantity: number;
  /** Catalog price at the moment the order was accepted. */
  unitPriceCents: number;
}

export interface ShippingAddress {
  name: string;
  line1: string;
  city: string;
  postalCode: string;
  /** ISO 3166-1 alpha-2. */
  country: string;
}

/** Input of `orderSaga`: everything the saga needs, priced by the API from the catalog. */
export interface OrderInput {
  orderId: string;
  customerId: string;
  items: OrderItem[];
  totalCents: number;
  paymentToken: string;
  shippingAddress: ShippingAddress;
  /** ISO timestamp at which the API accepted the order. */
  createdAt: string;
  /** Hash of the client's request body, used to tell a retry from a different request. */
  requestHash?: string;
  /** The API client that placed the order (tenancy); absent in runs started before tenancy. */
  clientId?: string;
  /** Where its steps run; absent means distributed (and in every run started before placements). */
  placement?: SagaPlacement;
}

export interface StepRecord {
  name: StepName;
  status: StepStatus;
  /** ISO time of the last change of this step. */
  at: string;
  error: string | null;
}

export type PaymentStatus = 'NONE' | 'CHARGED' | 'REFUNDED';
export type ShipmentStatus = 'NONE' | 'CREATED' | 'CANCELLED';

/** The live order view returned by the saga's query and by the API. */
export interface OrderState {
  orderId: string;
  customerId: string;
  /** The API client that owns the order (never shown to clients); absent in runs started before tenancy. */
  clientId?: string;
  status: OrderStatus;
  items: OrderItem[];
  totalCents: number;
  steps: StepRecord[];
  payment: { status: PaymentStatus; amountCents: number };
  shipment: { status: ShipmentStatus; trackingId: string | null };
  failureReason: string | null;
  /** Bounded machine-readable failure type (`OutOfStock`, `PaymentDeclined`, ...), null unless failed. */
  failureCode: string | null;
  /** True once a cancel was accepted and not yet carried out. */
  cancelRequested: boolean;
  createdAt: string;
  updatedAt: string;
}

/** Answer of the cancel update. */
export interface CancelResult {
  accepted: boolean;
  status: OrderStatus;
}

/** Owner of orders placed without API keys (dev mode) or before orders had owners. */
export const ANONYMOUS_CLIENT_ID = 'anonymous';

/** Workflow id of the saga for one order. */
export function orderWorkflowId(orderId: string): string {
  return `order-${orderId}`;
}

/** Name of the workflow type, for clients that start it by name. */
export const ORDER_WORKFLOW_TYPE = 'orderSaga';
/** Query returning the live {@link OrderState}. */
export const GET_ORDER_QUERY = 'getOrder';
/** Update that asks the saga to cancel; rejected once shipping has started. */
export const CANCEL_ORDER_UPDATE = 'cancelOrder';

/** Update an operator sends to run the failed compensations of a `COMPENSATION_FAILED` order again. */
export const RETRY_COMPENSATIONS_UPDATE = 'retryCompensations';
/** Update an operator sends once a failed compensation was settled by hand; the order then ends. */
export const RESOLVE_COMPENSATIONS_UPDATE = 'resolveCompensations';

/** What the operator says when resolving by hand (kept in the order's steps). */
export interface ResolveCompensationsInput {
  /** Who settled it and how, e.g. "refunded by hand in the provider's dashboard, ticket OPS-123". */
  note: string;
}

/** Answer of the operator updates: the compensations they act on. */
export interface OperatorActionResult {
  accepted: boolean;
  steps: StepName[];
}

/** Failure code of an order whose step found its own compensation had already run (a tombstone won the race). */
export const STEP_VOIDED = 'StepVoided';

/** Row written by the orders service when a saga starts. */
export interface CreateOrderRecordInput {
  orderId: string;
  customerId: string;
  /** Owner of the order; `anonymous` when absent (runs started before tenancy). */
  clientId?: string;
  /** Fingerprint of the request body that placed the order, for Idempotency-Key replays. */
  requestHash?: string;
  items: OrderItem[];
  totalCents: number;
  createdAt: string;
}

/** A status change; `seq` orders the writes so a late retry never moves an order back. */
export interface SetOrderStatusInput {
  orderId: string;
  status: OrderStatus;
  seq: number;
  failureReason?: string | null;
  failureCode?: string | null;
  /** Owner of the order, so a status write can create a row whose first write failed. */
  clientId?: string;
  /** The whole order view as of this write; the terminal write's view is what closed orders are read from. */
  view?: OrderState;
  /**
   * Set on the saga's first write when it also records the order (sagas of the lean shape have no separate
   * `createOrderRecord`): the row is created from `view` as if it had been PENDING, with this request hash.
   */
  firstWrite?: { requestHash?: string };
}

/** Activities of the orders service (queue {@link ORDERS_QUEUE}). */
export interface OrdersActivities {
  createOrderRecord(input: CreateOrderRecordInput): Promise<void>;
  setOrderStatus(input: SetOrderStatusInput): Promise<void>;
}
