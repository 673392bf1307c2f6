/** Pure helpers that build and update the order view the saga exposes through its query. */
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import type { OrderInput, OrderState, StepName, StepStatus } from '../contracts/orders.js';

/** The view of a just-accepted order. */
export function initialOrderState(input: OrderInput, now: string): OrderState {
  return {
    orderId: input.orderId,
    customerId: input.customerId,
    ...(input.clientId ? { clientId: input.clientId } : {}),
    status: 'PENDING',
    items: input.items,
    totalCents: input.totalCents,
    steps: [],
    payment: { status: 'NONE', amountCents: 0 },
    shipment: { status: 'NONE', trackingId: null },
    failureReason: null,
    failureCode: null,
    cancelRequested: false,
    createdAt: input.createdAt,
    updatedAt: now,
  };
}

/** Records a step's new status, adding the step the first time it is seen. */
export function markStep(state: OrderState, name: StepName, status: StepStatus, at: string, error?: string) {
  const existing = state.steps.find((step) => step.name === name);
  if (existing) {
    existing.status = status;
    existing.at = at;
    if (error !== undefined) existing.error = error;
  } else {
    state.steps.push({ name, status, at, error: error ?? null });
  }
  state.updatedAt = at;
}

/** A business failure's readable message and bounded code, from the failure a step threw. */
export function reasonOf(err: unknown): { code: string; message: string } {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    return { code: cause.type ?? 'ApplicationFailure', message: cause.message };
  }
  if (cause instanceof Error) return { code: cause.name, message: cause.message };
  return { code: 'Unknown', message: String(cause) };
}
