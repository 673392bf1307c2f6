/** The event contract and the envelope builder: CloudEvents 1.0 envelopes whose data is exactly what the contract says. */
import { describe, expect, it } from 'vitest';
import {
  ALL_EVENTS,
  anyEventEnvelopeSchema,
  EVENT_NAMES,
  eventEnvelopeJsonSchemas,
  eventSubject,
  eventType,
  orderEventsFilter,
  parseEventType,
  TERMINAL_ORDER_EVENTS,
} from '../../contracts/events.js';
import { buildEventEnvelope, parseEventEnvelope } from '../../events/envelope.js';

const ORDER = 'ord_0123456789abcdef0123456789abcdef';

describe('event contract', () => {
  it('lists the events of each service as the design does', () => {
    expect(EVENT_NAMES).toEqual({
      orders: ['OrderPlaced', 'OrderStatusChanged', 'OrderCompleted', 'OrderFailed', 'OrderCancelled'],
      inventory: ['StockReserved', 'StockReleased', 'StockCommitted'],
      payments: ['PaymentCharged', 'PaymentRefunded'],
      shipping: ['ShipmentCreated', 'ShipmentCancelled'],
    });
    expect(ALL_EVENTS).toHaveLength(12);
    expect(TERMINAL_ORDER_EVENTS).toEqual(['OrderCompleted', 'OrderFailed', 'OrderCancelled']);
  });

  it('names types and subjects by service, event and order', () => {
    expect(eventType('payments', 'PaymentRefunded')).toBe('order-saga.payments.PaymentRefunded.v1');
    expect(eventSubject('inventory', 'StockReserved', ORDER)).toBe(`events.inventory.StockReserved.${ORDER}`);
    expect(orderEventsFilter(ORDER)).toBe(`events.*.*.${ORDER}`);
    expect(parseEventType('order-saga.shipping.ShipmentCreated.v1')).toEqual({
      service: 'shipping',
      name: 'ShipmentCreated',
    });
    // An event under the wrong service, another version, or not ours at all.
    expect(parseEventType('order-saga.orders.ShipmentCreated.v1')).toBeNull();
    expect(parseEventType('order-saga.orders.OrderPlaced.v2')).toBeNull();
    expect(parseEventType('com.example.thing')).toBeNull();
  });

  it('refuses an order id that would break the subject', () => {
    for (const id of ['a.b', 'a*', 'a>', 'a b', '']) {
      expect(() => eventSubject('orders', 'OrderPlaced', id), id).toThrow();
    }
  });

  it('has a JSON Schema per event type, closed over its data', () => {
    const schemas = eventEnvelopeJsonSchemas();
    expect(Object.keys(schemas).sort()).toEqual(ALL_EVENTS.map(([s, n]) => eventType(s, n)).sort());
    const charged = schemas['order-saga.payments.PaymentCharged.v1'] as {
      title: string;
      required: string[];
      properties: { type: { const: string }; data: { additionalProperties: boolean; required: string[] } };
    };
    expect(charged.title).toBe('PaymentCharged');
    expect(charged.properties.type.const).toBe('order-saga.payments.PaymentCharged.v1');
    expect(charged.required).toEqual(
      expect.arrayContaining(['id', 'source', 'type', 'subject', 'time', 'data']),
    );
    expect(charged.properties.data.additionalProperties).toBe(false);
    expect(charged.properties.data.required.sort()).toEqual(['amountCents', 'chargeId', 'orderId']);
  });
});

describe('event envelope', () => {
  it('builds a CloudEvents 1.0 structured envelope that parses back', () => {
    const time = new Date('2026-01-02T03:04:05.678Z');
    const envelope = buildEventEnvelope(
      'payments',
      'PaymentCharged',
      ORDER,
      { orderId: ORDER, chargeId: 'ch_1', amountCents: 2598 },
      { time },
    );
    expect(envelope).toEqual({
      specversion: '1.0',
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      source: '/order-saga/payments',
      type: 'order-saga.payments.PaymentCharged.v1',
      subject: ORDER,
      time: '2026-01-02T03:04:05.678Z',
      datacontenttype: 'application/json',
      data: { orderId: ORDER, chargeId: 'ch_1', amountCents: 2598 },
    });
    // A plain JSON object: what is stored is what a consumer receives.
    expect(JSON.parse(JSON.stringify(envelope))).toEqual(envelope);
    expect(parseEventEnvelope(JSON.parse(JSON.stringify(envelope)))).toEqual(envelope);
  });

  it('gives every envelope its own id', () => {
    const data = { orderId: ORDER };
    const a = buildEventEnvelope('orders', 'OrderCancelled', ORDER, data);
    const b = buildEventEnvelope('orders', 'OrderCancelled', ORDER, data);
    expect(a.id).not.toBe(b.id);
  });

  it('rejects data the contract does not allow, so it never reaches an outbox', () => {
    const leaky = { orderId: ORDER, chargeId: 'ch_1', amountCents: 1, paymentToken: 'tok_secret' };
    expect(() => buildEventEnvelope('payments', 'PaymentCharged', ORDER, leaky)).toThrow(/paymentToken/);
    expect(() =>
      buildEventEnvelope('payments', 'PaymentCharged', ORDER, {
        orderId: ORDER,
        chargeId: 'ch_1',
        amountCents: -1,
      }),
    ).toThrow(/breaks its contract/);
    // The subject is the order id of the data.
    expect(() => buildEventEnvelope('orders', 'OrderCancelled', ORDER, { orderId: 'ord_other' })).toThrow(
      /subject/,
    );
  });

  it('parses any event by its type and rejects a mismatched one', () => {
    const placed = buildEventEnvelope('inventory', 'StockReserved', ORDER, {
      orderId: ORDER,
      items: [{ sku: 'MUG', quantity: 2 }],
    });
    expect(anyEventEnvelopeSchema.parse(placed)).toEqual(placed);
    // StockReserved data under a payments type, an unknown type, a missing id: none is one of our events.
    expect(
      anyEventEnvelopeSchema.safeParse({ ...placed, type: 'order-saga.payments.PaymentCharged.v1' }).success,
    ).toBe(false);
    expect(
      anyEventEnvelopeSchema.safeParse({ ...placed, type: 'order-saga.inventory.Nope.v1' }).success,
    ).toBe(false);
    const { id: _id, ...withoutId } = placed;
    expect(anyEventEnvelopeSchema.safeParse(withoutId).success).toBe(false);
  });
});
