/** Workflow entry point bundled for the orders worker. */
export { cancelOrderUpdate, getOrderQuery } from './definitions.js';
export { orderSaga } from './order-saga.js';
