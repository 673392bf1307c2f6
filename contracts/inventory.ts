/** Contract of the inventory service: stock reservations, all items or none. */

/** Task queue polled by the inventory worker. */
export const INVENTORY_QUEUE = 'inventory';

/** Business failure: not enough stock for at least one item (nothing is reserved). */
export const OUT_OF_STOCK = 'OutOfStock';
/** Business failure: a SKU that is not in the catalog. */
export const UNKNOWN_SKU = 'UnknownSku';
/** A commit was asked for a reservation that does not exist or was released. */
export const RESERVATION_NOT_FOUND = 'ReservationNotFound';

export interface StockLine {
  sku: string;
  quantity: number;
}

export interface ReserveStockInput {
  orderId: string;
  items: StockLine[];
}

/** State of an order's reservation after a call; `RELEASED` means a release came first and nothing was taken. */
export type ReservationStatus = 'RESERVED' | 'RELEASED' | 'COMMITTED';

export interface ReservationResult {
  orderId: string;
  status: ReservationStatus;
  /** False when the call found its work already done (a retry). */
  changed: boolean;
}

export interface OrderRef {
  orderId: string;
}

/** Activities of the inventory service (queue {@link INVENTORY_QUEUE}). */
export interface InventoryActivities {
  reserveStock(input: ReserveStockInput): Promise<ReservationResult>;
  releaseStock(input: OrderRef): Promise<ReservationResult>;
  commitStock(input: OrderRef): Promise<ReservationResult>;
}
