/** The gateway's circuit breaker and the orders subgraph's cache of closed orders, on their own clock. */
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../api/graphql/circuit-breaker.js';
import type { OrderInput, OrderState } from '../../contracts/orders.js';
import { ClosedOrderCache } from '../../graph/closed-orders.js';
import { initialOrderState } from '../../workflows/order-state.js';

describe('CircuitBreaker', () => {
  /** One call: acquires, then reports the outcome; false when the circuit refused it. */
  const call = (breaker: CircuitBreaker, outcome: 'ok' | 'fail') => {
    const ticket = breaker.tryAcquire();
    if (!ticket) return false;
    if (outcome === 'ok') breaker.succeeded(ticket);
    else breaker.failed(ticket);
    return true;
  };

  it('opens after the configured failures in a row, fails fast while open, then lets one trial through', () => {
    let now = 0;
    const breaker = new CircuitBreaker({ failures: 3, openMs: 1_000 }, () => now);
    call(breaker, 'fail');
    call(breaker, 'fail');
    // A success in between resets the count: only failures in a row open it.
    call(breaker, 'ok');
    call(breaker, 'fail');
    call(breaker, 'fail');
    expect(breaker.state).toBe('closed');
    expect(call(breaker, 'fail')).toBe(true);
    expect(breaker.state).toBe('open');
    expect(breaker.tryAcquire()).toBeUndefined();
    now = 999;
    expect(breaker.tryAcquire()).toBeUndefined();
    now = 1_000;
    expect(breaker.state).toBe('half-open');
    const trial = breaker.tryAcquire();
    expect(trial?.trial).toBe(true);
    // One trial at a time: the others still fail fast.
    expect(breaker.tryAcquire()).toBeUndefined();
    breaker.succeeded(trial as NonNullable<typeof trial>);
    expect(breaker.state).toBe('closed');
    expect(call(breaker, 'ok')).toBe(true);
  });

  it('opens again for a whole period when the trial fails', () => {
    let now = 0;
    const breaker = new CircuitBreaker({ failures: 1, openMs: 500 }, () => now);
    call(breaker, 'fail');
    now = 600;
    expect(call(breaker, 'fail')).toBe(true);
    expect(breaker.state).toBe('open');
    now = 1_099;
    expect(breaker.tryAcquire()).toBeUndefined();
    now = 1_100;
    expect(breaker.tryAcquire()).toBeDefined();
  });

  it('ignores late answers of calls made before the circuit last changed', () => {
    let now = 0;
    const breaker = new CircuitBreaker({ failures: 2, openMs: 100 }, () => now);
    const slowA = breaker.tryAcquire();
    const slowB = breaker.tryAcquire();
    const slowC = breaker.tryAcquire();
    if (!slowA || !slowB || !slowC) throw new Error('closed circuit refused a call');
    breaker.failed(slowA);
    breaker.failed(slowB);
    expect(breaker.state).toBe('open');
    now = 150;
    const trial = breaker.tryAcquire();
    expect(trial?.trial).toBe(true);
    // The third old call fails late: it neither reopens the circuit nor frees a second trial.
    breaker.failed(slowC);
    expect(breaker.state).toBe('half-open');
    expect(breaker.tryAcquire()).toBeUndefined();
    // A late success of an old call does not close it either; the trial's does.
    breaker.succeeded(slowC);
    expect(breaker.state).toBe('half-open');
    breaker.succeeded(trial as NonNullable<typeof trial>);
    expect(breaker.state).toBe('closed');
  });

  it('frees the trial of a call whose client went away, without deciding anything', () => {
    let now = 0;
    const breaker = new CircuitBreaker({ failures: 1, openMs: 100 }, () => now);
    call(breaker, 'fail');
    now = 100;
    const trial = breaker.tryAcquire();
    breaker.released(trial as NonNullable<typeof trial>);
    expect(breaker.state).toBe('half-open');
    expect(breaker.tryAcquire()?.trial).toBe(true);
  });
});

function order(orderId: string, status: OrderState['status']): OrderState {
  const input = {
    orderId,
    customerId: 'c',
    clientId: 'app',
    items: [],
    totalCents: 0,
  } as unknown as OrderInput;
  return { ...initialOrderState(input, '2026-01-01T00:00:00.000Z'), status };
}

describe('ClosedOrderCache', () => {
  it('keeps closed orders for their TTL and never a live or stale one', () => {
    let now = 0;
    const cache = new ClosedOrderCache({ ttlMs: 1_000, maxEntries: 10, now: () => now });
    cache.remember(order('live', 'CHARGING'), false);
    cache.remember(order('stale', 'COMPLETED'), true);
    cache.remember(order('done', 'COMPLETED'), false);
    cache.remember(order('failed', 'FAILED'), false);
    expect(cache.get('live')).toBeUndefined();
    expect(cache.get('stale')).toBeUndefined();
    expect(cache.get('done')?.status).toBe('COMPLETED');
    now = 999;
    expect(cache.get('failed')?.status).toBe('FAILED');
    now = 1_000;
    expect(cache.get('done')).toBeUndefined();
    expect(cache.size).toBe(1);
  });

  it('holds at most maxEntries, dropping the least recently used', () => {
    const cache = new ClosedOrderCache({ ttlMs: 60_000, maxEntries: 2 });
    cache.remember(order('a', 'COMPLETED'), false);
    cache.remember(order('b', 'COMPLETED'), false);
    expect(cache.get('a')).toBeDefined();
    cache.remember(order('c', 'CANCELLED'), false);
    expect(cache.size).toBe(2);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    expect(cache.get('c')).toBeDefined();
  });

  it('keeps nothing with a TTL of 0 entries', () => {
    const cache = new ClosedOrderCache({ ttlMs: 60_000, maxEntries: 0 });
    cache.remember(order('a', 'COMPLETED'), false);
    expect(cache.get('a')).toBeUndefined();
  });
});
