/** Production mode: the API refuses to start without keys; every process refuses short keys and fault injection. */
import { describe, expect, it } from 'vitest';
import { MIN_PRODUCTION_KEY_LENGTH } from '../../core/api-keys.js';
import { loadConfig } from '../../core/config.js';
import { formatPayloadKeys, generatePayloadKey } from '../../core/payload-keys.js';

/** Keys of the production minimum length. */
const CLIENT_KEY = 'c'.repeat(MIN_PRODUCTION_KEY_LENGTH);
const ADMIN_KEY = 'a'.repeat(MIN_PRODUCTION_KEY_LENGTH);
const production = {
  NODE_ENV: 'production',
  API_KEYS: `web-shop:${CLIENT_KEY}`,
  ADMIN_API_KEYS: `ops:${ADMIN_KEY}`,
};

/** What the API needs beyond the keys in production. */
const apiExtras = {
  API_CURSOR_SECRET: 'a-cursor-secret-for-tests',
  PAYLOAD_KEYS: formatPayloadKeys([generatePayloadKey('k1')]),
};

describe('API keys in production', () => {
  it('the API refuses to serve without keys in production; workers and jobs need none', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', ...apiExtras }, { role: 'api' })).toThrow(
      /^Invalid configuration:\n {2}API_KEYS, ADMIN_API_KEYS: API_KEYS or ADMIN_API_KEYS must be set/,
    );
    expect(loadConfig({ NODE_ENV: 'production', ...apiExtras }, { role: 'worker' }).auth.enabled).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production' }).auth.enabled).toBe(false);
  });

  it('accepts production with keys of the minimum length, and development without keys', () => {
    expect(MIN_PRODUCTION_KEY_LENGTH).toBe(32);
    expect(loadConfig({ ...production, ...apiExtras }, { role: 'api' }).auth.enabled).toBe(true);
    expect(loadConfig({ NODE_ENV: 'development' }, { role: 'api' }).auth.enabled).toBe(false);
  });

  it('refuses a key shorter than 32 characters, naming the variable and entry but not the key', () => {
    const short = 'k'.repeat(MIN_PRODUCTION_KEY_LENGTH - 1);
    const load = (env: Record<string, string>) => () => loadConfig({ ...production, ...env });
    expect(load({ API_KEYS: `web-shop:${CLIENT_KEY},web-shop:${short}` })).toThrow(
      /API_KEYS: entry 2: the key must be at least 32 characters when NODE_ENV=production/,
    );
    expect(load({ ADMIN_API_KEYS: `ops:${short}` })).toThrow(
      /ADMIN_API_KEYS: entry 1: the key must be at least 32/,
    );
    expect(load({ ADMIN_API_KEYS: `ops:${short}` })).not.toThrow(short);
    // The same short key is fine outside production (tests, laptops).
    expect(() =>
      loadConfig({ ...production, NODE_ENV: 'development', API_KEYS: `web:${short}` }),
    ).not.toThrow();
  });

  it('refuses the old bare-key format with a hint to write clientId:key', () => {
    expect(() => loadConfig({ ...production, API_KEYS: CLIENT_KEY })).toThrow(
      /API_KEYS: entry 1: expected "clientId:key"; a bare key is not accepted/,
    );
  });
});

describe('fault injection in production', () => {
  it.each([
    ['FAULT_RATE', '0.05'],
    ['FAULT_AFTER_RATE', '0.01'],
    ['FAULT_LATENCY_MS', '40'],
  ])('refuses %s=%s, saying so', (variable, value) => {
    expect(() => loadConfig({ ...production, [variable]: value })).toThrow(
      new RegExp(`${variable}: fault injection is refused when NODE_ENV=production`),
    );
    // Outside production it is the chaos switch, as before.
    const dev = loadConfig({ [variable]: value });
    expect(Object.values(dev.faults).some((v) => v > 0)).toBe(true);
  });

  it('accepts the faults set to 0 (off) in production', () => {
    const config = loadConfig({
      ...production,
      FAULT_RATE: '0',
      FAULT_AFTER_RATE: '0',
      FAULT_LATENCY_MS: '0',
    });
    expect(config.faults).toEqual({ rate: 0, afterRate: 0, latencyMs: 0 });
  });
});
