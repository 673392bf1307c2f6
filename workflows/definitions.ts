/** Query and update definitions of the saga, shared by the workflow and its clients without loading workflow code. */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import {
  CANCEL_ORDER_UPDATE,
  type CancelResult,
  GET_ORDER_QUERY,
  type OperatorActionResult,
  type OrderState,
  RESOLVE_COMPENSATIONS_UPDATE,
  RETRY_COMPENSATIONS_UPDATE,
  type ResolveCompensationsInput,
} from '../contracts/orders.js';

/** Query returning the live order view. */
export const getOrderQuery = defineQuery<OrderState>(GET_ORDER_QUERY);
/** Update asking the saga to cancel; its validator rejects it once shipping has started. */
export const cancelOrderUpdate = defineUpdate<CancelResult>(CANCEL_ORDER_UPDATE);
/** Operator update: run the failed compensations of a `COMPENSATION_FAILED` order again. */
export const retryCompensationsUpdate = defineUpdate<OperatorActionResult>(RETRY_COMPENSATIONS_UPDATE);
/** Operator update: the failed compensations were settled by hand; end the order. */
export const resolveCompensationsUpdate = defineUpdate<OperatorActionResult, [ResolveCompensationsInput]>(
  RESOLVE_COMPENSATIONS_UPDATE,
);
