/**
 * API keys as configured (`API_KEYS` / `ADMIN_API_KEYS` = `clientId:key,clientId:key`): every key belongs to a client
 * app, so the client keeps its identity (its orders, its idempotency scope) when the key is rotated. Errors name the
 * entry by position, never any part of it (the text before a `:` might be a mistyped key).
 */

/** One configured key and the client it belongs to. */
export interface ClientKey {
  clientId: string;
  key: string;
}

/** What a client id may look like: it is stored with every order and appears in logs. */
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

import { ANONYMOUS_CLIENT_ID } from '../contracts/orders.js';

/** The one client of dev mode without keys; reserved, so no configured client inherits its orders. */
export { ANONYMOUS_CLIENT_ID };

/** Shortest key accepted when NODE_ENV=production (`openssl rand -hex 32` gives 64 characters). */
export const MIN_PRODUCTION_KEY_LENGTH = 32;

/** A parsed key with its 1-based position in the configured text, for messages about it. */
export interface ConfiguredKey extends ClientKey {
  position: number;
}

/** Printable ASCII without spaces: what an `Authorization: Bearer` token can carry. */
const KEY_CHARACTERS = /^[\x21-\x7e]+$/;

/**
 * Parses `clientId:key` pairs separated by commas; empty text (or only commas) means no keys. Entries are numbered
 * from 1 as they appear in the text, empty ones included, so a message points at the right place.
 */
export function parseClientKeys(value: string): ConfiguredKey[] {
  const keys: ConfiguredKey[] = [];
  value.split(',').forEach((raw, index) => {
    const entry = raw.trim();
    if (entry.length === 0) return;
    const position = index + 1;
    const parts = entry.split(':');
    if (parts.length === 1) {
      throw new Error(
        `entry ${position}: expected "clientId:key"; a bare key is not accepted, prefix it with the id of the ` +
          'client app it belongs to (e.g. "web-shop:<key>")',
      );
    }
    if (parts.length > 2) {
      throw new Error(
        `entry ${position}: expected one ":" between clientId and key (a key cannot contain ":")`,
      );
    }
    const [clientId = '', key = ''] = parts.map((part) => part.trim());
    if (!CLIENT_ID_PATTERN.test(clientId)) {
      throw new Error(
        `entry ${position}: the client id must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit`,
      );
    }
    if (clientId === ANONYMOUS_CLIENT_ID) {
      throw new Error(
        `entry ${position}: the client id "${ANONYMOUS_CLIENT_ID}" is reserved for dev mode without keys`,
      );
    }
    if (key.length === 0) throw new Error(`entry ${position}: the key after ":" is empty`);
    if (!KEY_CHARACTERS.test(key)) {
      throw new Error(`entry ${position}: the key must be printable ASCII without spaces`);
    }
    const earlier = keys.find((k) => k.key === key);
    if (earlier) {
      throw new Error(
        `entry ${position}: the same key as entry ${earlier.position}; a key belongs to one client ` +
          '(to rotate, add a new key with the same clientId)',
      );
    }
    keys.push({ clientId, key, position });
  });
  return keys;
}

/** The same key in two variables: a key has one role. Returns a message, or undefined when every key is unique. */
export function keyInBoth(apiKeys: readonly ConfiguredKey[], adminKeys: readonly ConfiguredKey[]) {
  for (const admin of adminKeys) {
    const client = apiKeys.find((k) => k.key === admin.key);
    if (client) {
      return `ADMIN_API_KEYS: entry ${admin.position}: the same key as API_KEYS entry ${client.position}; a key has one role`;
    }
  }
  return undefined;
}

/** One line for a start banner: which clients have keys (ids only, never keys). */
export function describeClients(apiKeys: readonly ClientKey[], adminKeys: readonly ClientKey[]): string {
  const ids = (keys: readonly ClientKey[]) => [...new Set(keys.map((k) => k.clientId))].join(', ') || 'none';
  return `clients ${ids(apiKeys)}; admin ${ids(adminKeys)}`;
}
