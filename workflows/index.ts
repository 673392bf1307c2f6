/** Workflow entry point bundled for the orders worker. */
export {
  cancelOrderUpdate,
  getOrderQuery,
  resolveCompensationsUpdate,
  retryCompensationsUpdate,
} from './definitions.js';
export { orderSaga } from './order-saga.js';
