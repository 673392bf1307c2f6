/** Production mode: the API refuses to start without keys; other roles (workers, jobs) need none. */
import { describe, expect, it } from 'vitest';
import { assertApiAuthConfigured, loadConfig } from '../../core/config.js';

describe('API keys in production', () => {
  it('the API refuses to serve without keys in production', () => {
    const config = loadConfig({ NODE_ENV: 'production' });
    expect(() => assertApiAuthConfigured(config)).toThrow(/API_KEYS or ADMIN_API_KEYS must be set/);
  });

  it('accepts production with keys, and development without', () => {
    expect(() =>
      assertApiAuthConfigured(loadConfig({ NODE_ENV: 'production', API_KEYS: 'k1' })),
    ).not.toThrow();
    expect(() => assertApiAuthConfigured(loadConfig({ NODE_ENV: 'development' }))).not.toThrow();
  });
});
