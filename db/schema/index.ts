/** Every service's tables, for the drizzle client and drizzle-kit. */
export * from './inventory.js';
export * from './notifications.js';
export * from './orders.js';
export * from './payments.js';
export * from './shipping.js';
