/**
 * The orders subgraph's cache of closed orders. A closed order's recorded view never changes again (the saga's
 * last write is its final view), so it may be served from memory: entries live `ttlMs` (default 5 min) and at most
 * `maxEntries` are kept (least recently used out first). A live order is never cached: every read of it asks the
 * saga (or, when no worker answers in time, serves its last recorded view marked `stale`).
 */
import type { OrderState } from '../contracts/orders.js';
import { isTerminal } from '../contracts/orders.js';

export interface ClosedOrderCacheOptions {
  ttlMs: number;
  maxEntries: number;
  now?: () => number;
}

export class ClosedOrderCache {
  private readonly entries = new Map<string, { order: OrderState; expires: number }>();
  private readonly now: () => number;

  constructor(private readonly options: ClosedOrderCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The cached closed order, or undefined (never cached, expired or evicted). */
  get(orderId: string): OrderState | undefined {
    const entry = this.entries.get(orderId);
    if (!entry) return undefined;
    this.entries.delete(orderId);
    if (entry.expires <= this.now()) return undefined;
    this.entries.set(orderId, entry);
    return entry.order;
  }

  /** Keeps a closed order's final view; anything else is ignored. */
  remember(order: OrderState, stale: boolean): void {
    if (stale || !isTerminal(order.status) || this.options.maxEntries <= 0 || this.options.ttlMs <= 0) return;
    this.entries.delete(order.orderId);
    this.entries.set(order.orderId, { order, expires: this.now() + this.options.ttlMs });
    while (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
