/**
 * Listing cursors: a correctly signed cursor whose content is malformed is still refused with 400 `invalid-cursor`, so
 * nothing odd ever reaches the database query (an impossible timestamp there is a 500).
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from '../../api/orders/cursor.js';
import { ProblemError } from '../../api/problems/problem.js';
import { bodyOf, offlineApp } from '../security/test-app.js';

const scope = 'status=&customerId=';
const secret = 'a-cursor-secret-for-tests';
const orderId = 'ord_0123456789abcdef0123456789abcdef';

/** The tag the API puts after the dot, re-implemented here so the test can sign any payload text. */
const tagOf = (payload: string) =>
  createHmac('sha256', secret).update(`${scope}\n${payload}`).digest('base64url').slice(0, 22);
/** A cursor carrying exactly `json` (any text), correctly signed. */
const signed = (json: string) => {
  const payload = Buffer.from(json).toString('base64url');
  return `${payload}.${tagOf(payload)}`;
};
/** A cursor for a position, made by the API's own encoder (it does not validate what it encodes). */
const encoded = (createdAt: string, id = orderId) => encodeCursor({ createdAt, orderId: id }, scope, secret);

function refusal(cursor: string): ProblemError {
  try {
    decodeCursor(cursor, scope, secret);
  } catch (error) {
    expect(error).toBeInstanceOf(ProblemError);
    return error as ProblemError;
  }
  throw new Error(`cursor ${cursor} was accepted`);
}

describe('listing cursor validation', () => {
  it('the test signs cursors exactly like the API does', () => {
    const good = encoded('2026-01-31T12:00:00.123456Z');
    expect(signed(JSON.stringify({ t: '2026-01-31T12:00:00.123456Z', i: orderId }))).toBe(good);
    expect(decodeCursor(good, scope, secret)).toEqual({ createdAt: '2026-01-31T12:00:00.123456Z', orderId });
  });

  it.each([
    '2024-02-29T23:59:59.999999Z', // leap day
    '0001-01-01T00:00:00.000000Z',
    '9999-12-31T23:59:59.999999Z',
  ])('accepts the real instant %s', (createdAt) => {
    expect(decodeCursor(encoded(createdAt), scope, secret)).toEqual({ createdAt, orderId });
  });

  it.each([
    '2026-13-45T99:99:99.000000Z',
    '2026-02-30T12:00:00.000000Z', // no 30 February
    '2025-02-29T12:00:00.000000Z', // not a leap year
    '2026-04-31T12:00:00.000000Z',
    '2026-01-31T24:00:00.000000Z',
    '2026-01-31T23:60:00.000000Z',
    '2026-01-31T23:59:60.000000Z', // leap second: not a form Postgres' to_char ever produced
    '2026-00-10T12:00:00.000000Z',
    '2026-01-00T12:00:00.000000Z',
    '0000-01-01T00:00:00.000000Z', // no year zero in Postgres
    '2026-01-31T12:00:00.123Z', // not microseconds
    '2026-01-31T12:00:00.123456+00:00',
    '2026-01-31 12:00:00.123456Z',
    '+02026-01-31T12:00:00.123456Z',
    '2026-01-31T12:00:00.123456Z\n',
  ])('refuses a signed cursor with the impossible or odd timestamp %j', (createdAt) => {
    const problem = refusal(encoded(createdAt));
    expect(problem.slug).toBe('invalid-cursor');
  });

  it.each([
    ['a number timestamp', '{"t":1769860800,"i":"ord_1"}'],
    ['a number order id', '{"t":"2026-01-31T12:00:00.123456Z","i":1}'],
    ['a missing order id', '{"t":"2026-01-31T12:00:00.123456Z"}'],
    ['a missing timestamp', '{"i":"ord_1"}'],
    ['an extra field', '{"t":"2026-01-31T12:00:00.123456Z","i":"ord_1","x":1}'],
    ['an extra __proto__ field', '{"t":"2026-01-31T12:00:00.123456Z","i":"ord_1","__proto__":{}}'],
    ['an array', '["2026-01-31T12:00:00.123456Z","ord_1"]'],
    ['null', 'null'],
    ['a string', '"2026-01-31T12:00:00.123456Z"'],
    ['a number', '42'],
    ['broken JSON', '{"t":"2026-01-31T12:00:00.123456Z","i":"ord_1"'],
    ['an empty object', '{}'],
    ['an order id with odd characters', '{"t":"2026-01-31T12:00:00.123456Z","i":"ord 1;--"}'],
    ['an empty order id', '{"t":"2026-01-31T12:00:00.123456Z","i":""}'],
    ['a NUL byte', '\u0000'],
  ])('refuses a signed payload with %s', (_name, json) => {
    expect(refusal(signed(json)).slug).toBe('invalid-cursor');
  });

  it('refuses a signed payload that is not UTF-8', () => {
    const payload = Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]).toString('base64url');
    expect(refusal(`${payload}.${tagOf(payload)}`).slug).toBe('invalid-cursor');
  });

  it('refuses extra segments, wrong-length tags and characters outside base64url', () => {
    const good = encoded('2026-01-31T12:00:00.123456Z');
    const [payload, tag] = good.split('.') as [string, string];
    for (const cursor of [
      `${good}.`,
      `${good}.${tag}`,
      `${payload}.${tag}.x`,
      `.${payload}.${tag}`,
      `${payload}..${tag}`,
      `${payload}.${tag}A`,
      `${payload}.${tag.slice(0, -1)}`,
      `${payload}.`,
      `.${tag}`,
      payload,
      '',
      '.',
    ]) {
      expect(refusal(cursor).slug, cursor).toBe('invalid-cursor');
    }
    // Characters base64url decoding would skip silently: signed as the text they are, they are still refused.
    for (const odd of [
      `${payload}=`,
      `${payload}!`,
      ` ${payload}`,
      `${payload.slice(0, 4)}+/${payload.slice(4)}`,
    ]) {
      expect(refusal(`${odd}.${tagOf(odd)}`).slug, odd).toBe('invalid-cursor');
    }
    // A non-canonical spelling of the same bytes (an unused low bit set in the last character) is not one the API
    // made. The order id is chosen so the payload's byte count is not a multiple of 3, which leaves such bits.
    const id = orderId.slice(0, 11);
    const canonical = encoded('2026-01-31T12:00:00.123456Z', id).split('.')[0] as string;
    expect(Buffer.from(canonical, 'base64url').length % 3).not.toBe(0);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = canonical.slice(0, -1) + alphabet[alphabet.indexOf(canonical.at(-1) as string) ^ 1];
    expect(Buffer.from(sibling, 'base64url')).toEqual(Buffer.from(canonical, 'base64url'));
    expect(refusal(`${sibling}.${tagOf(sibling)}`).slug).toBe('invalid-cursor');
    // A tag with a non-base64url character in place of one of its own.
    expect(refusal(`${payload}.${tag.slice(0, -1)}*`).slug).toBe('invalid-cursor');
    // 22 characters but 23 bytes: compared as bytes, a length check on characters alone would throw a RangeError.
    expect(refusal(`${payload}.${tag.slice(0, -1)}é`).slug).toBe('invalid-cursor');
  });
});

describe('listing cursor over HTTP', () => {
  it('a signed cursor with an impossible date is 400 invalid-cursor, never reaching the database (a 500 there)', async () => {
    // offlineApp's database fails every query, so a cursor that got past validation would answer 500.
    const { app } = offlineApp({ API_CURSOR_SECRET: secret });
    const res = await app.request(`/v1/orders?cursor=${encoded('2026-13-45T99:99:99.000000Z')}`);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(await bodyOf(res)).toEqual({
      type: 'https://order-saga.dev/problems/invalid-cursor',
      title: 'Invalid cursor',
      status: 400,
      detail: 'The cursor is not one this API issued for these filters; start again without a cursor',
      instance: '/v1/orders',
      errors: [{ path: 'cursor', message: 'invalid cursor' }],
    });
  });
});
