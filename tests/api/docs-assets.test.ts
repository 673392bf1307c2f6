/** `/docs/assets/:file` serves only its own files: names inherited from Object.prototype are unknown paths (404). */
import { describe, expect, it } from 'vitest';
import { bodyOf, offlineApp } from '../security/test-app.js';

describe('docs assets', () => {
  it('serves the Swagger UI files it lists', async () => {
    const { app } = offlineApp({});
    for (const [file, type] of [
      ['swagger-ui.css', 'text/css'],
      ['swagger-ui-bundle.js', 'text/javascript'],
      ['init.js', 'text/javascript'],
    ]) {
      const res = await app.request(`/docs/assets/${file}`);
      expect(res.status, file).toBe(200);
      expect(res.headers.get('content-type')).toContain(type);
    }
  });

  it('answers 404 problem+json, like any unknown path, for names inherited from Object.prototype', async () => {
    const { app } = offlineApp({});
    const unknown = await app.request('/docs/assets/no-such-file.js');
    expect(unknown.status).toBe(404);
    const expected = await bodyOf(unknown);
    for (const name of [
      'constructor',
      '__proto__',
      'toString',
      'valueOf',
      'hasOwnProperty',
      'isPrototypeOf',
    ]) {
      const res = await app.request(`/docs/assets/${name}`);
      expect(res.status, name).toBe(404);
      expect(res.headers.get('content-type'), name).toContain('application/problem+json');
      const body = await bodyOf(res);
      expect(body.type, name).toBe(expected.type);
      expect(body.status, name).toBe(404);
    }
  });
});
