/** Contract of the activity only the colocated worker has: a step together with the status write announcing it. */
import type { ReservationResult, ReserveStockInput } from './inventory.js';
import type { SetOrderStatusInput } from './orders.js';
import type { ChargePaymentInput, ChargeResult } from './payments.js';
import type { CreateShipmentInput, ShipmentResult } from './shipping.js';

/** A forward step of the saga that a status write announces, with its input. */
export type AnnouncedStep =
  | { name: 'reserveStock'; input: ReserveStockInput }
  | { name: 'chargePayment'; input: ChargePaymentInput }
  | { name: 'createShipment'; input: CreateShipmentInput };

/** What each announced step returns. */
export interface AnnouncedResults {
  reserveStock: ReservationResult;
  chargePayment: ChargeResult;
  createShipment: ShipmentResult;
}

export interface AnnounceAndRunInput {
  /** The orders service's status write (RESERVING, CHARGING, SHIPPING), committed before the step runs. */
  status: SetOrderStatusInput;
  step: AnnouncedStep;
}

export interface ColocatedActivities {
  /**
   * The status write, then the step: the two calls a colocated saga always makes back to back, in one local
   * activity (two transactions, in order). A retry repeats both; the write is idempotent by its seq.
   */
  announceAndRun(input: AnnounceAndRunInput): Promise<AnnouncedResults[AnnouncedStep['name']]>;
}
