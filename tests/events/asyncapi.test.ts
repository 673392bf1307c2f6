/** The AsyncAPI document: valid AsyncAPI 3 (the official parser), one channel and message per event, served open. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Parser } from '@asyncapi/parser';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../api/app.js';
import { ALL_EVENTS, eventEnvelopeSchema, eventSubject } from '../../contracts/events.js';
import { PROJECT_ROOT } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import { asyncApiDocument, NOTIFICATIONS_SUBSCRIBES_TO } from '../../events/asyncapi.js';
import { CATALOG_BEGIN, CATALOG_END, eventCatalogMarkdown } from '../../events/asyncapi-markdown.js';
import { buildEventEnvelope } from '../../events/envelope.js';

const document = asyncApiDocument('0.0.0-test');

describe('AsyncAPI document', () => {
  it('parses as AsyncAPI 3 without errors', async () => {
    const { document: parsed, diagnostics } = await new Parser().parse(JSON.stringify(document));
    const errors = diagnostics
      .filter((d) => d.severity === 0)
      .map((d) => `${d.path.join('.')}: ${d.message}`);
    expect(errors).toEqual([]);
    expect(parsed?.version()).toBe('3.0.0');
    expect(parsed?.channels().length).toBe(ALL_EVENTS.length);
    expect(parsed?.messages().length).toBe(ALL_EVENTS.length);
  });

  it("each channel's address matches the subject the relay publishes to", () => {
    const channels = document.channels as Record<string, { address: string }>;
    for (const [service, name] of ALL_EVENTS) {
      const address = channels[`${service}.${name}`]?.address;
      expect(address?.replace('{orderId}', 'ord_1')).toBe(eventSubject(service, name, 'ord_1'));
    }
  });

  it("each message's payload is the envelope schema: a real envelope has every required field", () => {
    const messages = (document.components as { messages: Record<string, { payload: { schema: Schema } }> })
      .messages;
    const envelope = buildEventEnvelope('payments', 'PaymentCharged', 'ord_1', {
      orderId: 'ord_1',
      chargeId: 'ch_1',
      amountCents: 100,
    });
    const schema = messages.PaymentCharged?.payload.schema as Schema;
    for (const field of schema.required ?? []) expect(envelope).toHaveProperty(field);
    expect(Object.keys(schema.properties ?? {}).sort()).toEqual(
      Object.keys(eventEnvelopeSchema('payments', 'PaymentCharged').shape).sort(),
    );
  });

  it('lists what the notifications service receives', () => {
    const receives = Object.entries(document.operations as Record<string, { action: string }>)
      .filter(([, op]) => op.action === 'receive')
      .map(([id]) => id.replace('notifications.receive', ''));
    expect(receives.sort()).toEqual([...NOTIFICATIONS_SUBSCRIBES_TO].sort());
  });

  it('docs/EVENTS.md holds the catalog rendered from it (run `npm run events:docs` after a contract change)', () => {
    const cells = (markdown: string) => {
      const section = markdown.slice(markdown.indexOf(CATALOG_BEGIN), markdown.indexOf(CATALOG_END));
      return section
        .split('\n')
        .filter((line) => line.startsWith('|') && !/^\|[\s|:-]+\|$/.test(line))
        .map((line) => line.split('|').map((cell) => cell.trim()));
    };
    const committed = readFileSync(path.join(PROJECT_ROOT, 'docs', 'EVENTS.md'), 'utf8');
    expect(cells(committed).length).toBe(ALL_EVENTS.length + 1);
    expect(cells(committed)).toEqual(cells(eventCatalogMarkdown(document)));
  });

  it('is served at /asyncapi.json without a key', async () => {
    const app = createApp({
      temporal: { connection: {} } as never,
      db: {} as never,
      pingDatabase: async () => {},
      auth: { enabled: true, apiKeys: [], adminKeys: [] },
      logger: createLogger('test', 'silent'),
    });
    const res = await app.request('/asyncapi.json');
    expect(res.status).toBe(200);
    const served = (await res.json()) as { asyncapi: string; channels: object };
    expect(served.asyncapi).toBe('3.0.0');
    expect(Object.keys(served.channels)).toEqual(Object.keys(document.channels as object));
  });
});

interface Schema {
  required?: string[];
  properties?: Record<string, unknown>;
}
