/**
 * What `/openapi.json` tells a client about the problems (`api/problems/responses.ts`): the statuses each route can
 * answer, every problem type behind each status as a named example, and the headers that come with them. A client
 * generator and the docs page read this; it must agree with the problems the API really answers (problem.ts).
 */
import { describe, expect, it } from 'vitest';
import { PROBLEM_BASE, PROBLEM_TYPES } from '../../api/problems/problem.js';
import { bodyOf, offlineApp } from '../security/test-app.js';

interface ProblemResponseDoc {
  description: string;
  headers?: Record<
    string,
    { description?: string; required: boolean; schema: { type: string; pattern?: string } }
  >;
  content: Record<
    string,
    {
      schema: { $ref?: string };
      examples: Record<string, { summary: string; value: Record<string, unknown> }>;
    }
  >;
}

/** Every documented answer of every operation, as `[METHOD path, status, response]`. */
async function documentedAnswers(): Promise<[string, string, ProblemResponseDoc][]> {
  const { app } = offlineApp({});
  const doc = await bodyOf(app.request('/openapi.json'));
  const answers: [string, string, ProblemResponseDoc][] = [];
  for (const [path, operations] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
    for (const [method, operation] of Object.entries(operations)) {
      const responses = (operation as { responses?: Record<string, ProblemResponseDoc> }).responses ?? {};
      for (const [status, response] of Object.entries(responses)) {
        answers.push([`${method.toUpperCase()} ${path}`, status, response]);
      }
    }
  }
  return answers;
}

/** The problem answers of the `/v1` routes (the GraphQL endpoint and the docs assets document their own). */
const problemAnswers = async () =>
  (await documentedAnswers()).filter(
    ([operation, , response]) =>
      operation.includes(' /v1/') && response.content?.['application/problem+json'],
  );

describe('problems in the OpenAPI document', () => {
  it('has every /v1 operation document the problems any /v1 route can answer', async () => {
    const v1 = (await documentedAnswers()).filter(([operation]) => operation.includes(' /v1/'));
    const byOperation = new Map<string, string[]>();
    for (const [operation, status] of v1)
      byOperation.set(operation, [...(byOperation.get(operation) ?? []), status]);
    expect(byOperation.size).toBeGreaterThan(5);
    for (const [operation, statuses] of byOperation) {
      expect(statuses, operation).toEqual(expect.arrayContaining(['401', '500', '503']));
    }
    const place = byOperation.get('POST /v1/orders') ?? [];
    expect(place).toEqual(expect.arrayContaining(['400', '413', '415', '422']));
  });

  it('lists, for each problem status, exactly the problem types of that status as examples', async () => {
    const answers = await problemAnswers();
    expect(answers.length).toBeGreaterThan(20);
    for (const [operation, status, response] of answers) {
      const content = response.content['application/problem+json'];
      expect(content?.schema.$ref, `${operation} ${status}`).toBe('#/components/schemas/Problem');
      const expected = Object.entries(PROBLEM_TYPES)
        .filter(([, problem]) => String(problem.status) === status)
        .map(([slug]) => slug);
      expect(Object.keys(content?.examples ?? {}).sort(), `${operation} ${status}`).toEqual(expected.sort());
      for (const slug of expected) {
        const problem = PROBLEM_TYPES[slug as keyof typeof PROBLEM_TYPES];
        expect(content?.examples[slug], `${operation} ${status} ${slug}`).toEqual({
          summary: problem.title,
          value: {
            type: `${PROBLEM_BASE}${slug}`,
            title: problem.title,
            status: Number(status),
            detail: problem.when,
          },
        });
      }
    }
  });

  it('says a 401 always comes with WWW-Authenticate and a 503 with a numeric Retry-After, and no other does', async () => {
    // A 412 carries the product's current ETag (its own header, documented by its route).
    for (const [operation, status, response] of await problemAnswers()) {
      const where = `${operation} ${status}`;
      if (status === '401') {
        expect(response.headers, where).toEqual({
          'WWW-Authenticate': { description: 'Always `Bearer`.', required: true, schema: { type: 'string' } },
        });
      } else if (status === '503') {
        expect(response.headers?.['Retry-After'], where).toMatchObject({
          required: true,
          schema: { type: 'string', pattern: '^[0-9]+$' },
        });
        expect(Object.keys(response.headers ?? {}), where).toEqual(['Retry-After']);
      } else {
        expect(Object.keys(response.headers ?? {}), where).not.toEqual(
          expect.arrayContaining([expect.stringMatching(/^(WWW-Authenticate|Retry-After)$/)]),
        );
      }
    }
  });

  it('describes each problem status by what causes it', async () => {
    const descriptions = new Map<string, Set<string>>();
    for (const [, status, response] of await problemAnswers()) {
      descriptions.set(status, (descriptions.get(status) ?? new Set()).add(response.description));
    }
    // One description per status, wherever it is documented, and never the generic fallback.
    for (const [status, texts] of descriptions) {
      expect([...texts], status).toHaveLength(1);
      expect([...texts][0], status).not.toBe('Problem');
      expect([...texts][0]?.length, status).toBeGreaterThan(10);
    }
    expect([...(descriptions.get('401') ?? [])][0]).toMatch(/API key/);
    expect([...(descriptions.get('503') ?? [])][0]).toMatch(/Retry-After/);
    expect([...(descriptions.get('500') ?? [])][0]).toMatch(/logged/);
  });

  it('shows in the Problem schema a validation problem exactly as the API answers it', async () => {
    const key = 'shop:a-client-key-of-at-least-32-characters';
    const { app } = offlineApp({ API_KEYS: key });
    const doc = await bodyOf(app.request('/openapi.json'));
    const schema = doc.components.schemas.Problem;
    expect(schema.description).toMatch(/RFC 9457/);
    expect(Object.keys(schema.properties).sort()).toEqual(
      ['detail', 'errors', 'instance', 'orderId', 'orderStatus', 'status', 'title', 'type'].sort(),
    );
    expect(schema.required.sort()).toEqual(['detail', 'status', 'title', 'type']);
    expect(schema.properties.errors.items.required.sort()).toEqual(['message', 'path']);
    // The extensions say when they appear.
    expect(schema.properties.orderStatus.allOf).toEqual([
      { $ref: '#/components/schemas/OrderStatus' },
      { description: expect.stringMatching(/order-not-cancellable/) },
    ]);
    expect(schema.properties.orderId.description).toMatch(/503.*POST \/v1\/orders.*Location/s);

    const example = Object.fromEntries(
      ['type', 'title', 'status', 'detail', 'instance', 'errors'].map((field) => [
        field,
        schema.properties[field].example,
      ]),
    );
    const tooMany = {
      ...doc.components.schemas.CreateOrderRequest.example,
      items: [{ sku: 'MUG-RED', quantity: 1001 }],
    };
    const answer = await app.request('/v1/orders', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key.split(':')[1]}`,
        'content-type': 'application/json',
        'idempotency-key': 'doc-example-1',
      },
      body: JSON.stringify(tooMany),
    });
    expect(answer.status).toBe(422);
    expect(await answer.json()).toEqual(example);
  });

  it('says what a 503 Retry-After counts', async () => {
    const [, , response] = (await problemAnswers()).find(([, status]) => status === '503') ?? [];
    expect(response?.headers?.['Retry-After']?.description).toMatch(/seconds/i);
  });
});
