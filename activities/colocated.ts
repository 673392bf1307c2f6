/** The colocated worker's own activity, on the four services' activities of the same process. */
import type { ColocatedActivities } from '../contracts/colocated.js';
import type { InventoryActivities } from '../contracts/inventory.js';
import type { OrdersActivities } from '../contracts/orders.js';
import type { PaymentsActivities } from '../contracts/payments.js';
import type { ShippingActivities } from '../contracts/shipping.js';
import { measuredStep } from '../core/step-measure.js';

/** The services' activities it calls. */
export type ServiceActivities = Pick<OrdersActivities, 'setOrderStatus'> &
  Pick<InventoryActivities, 'reserveStock'> &
  Pick<PaymentsActivities, 'chargePayment'> &
  Pick<ShippingActivities, 'createShipment'>;

/** Builds `announceAndRun`: the status write, committed, then the step it announces (each its own transaction). */
export function createColocatedActivities(services: ServiceActivities): ColocatedActivities {
  return {
    async announceAndRun({ status, step }) {
      // Each measured as its own activity (the worker's metrics read the same as when they run apart).
      await measuredStep('setOrderStatus', () => services.setOrderStatus(status));
      if (step.name === 'reserveStock')
        return measuredStep(step.name, () => services.reserveStock(step.input));
      if (step.name === 'chargePayment')
        return measuredStep(step.name, () => services.chargePayment(step.input));
      return measuredStep(step.name, () => services.createShipment(step.input));
    },
  };
}
