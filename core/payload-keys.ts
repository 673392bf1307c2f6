/**
 * Payload keys as configured (`PAYLOAD_KEYS="id:base64,id:base64"`) and the development key file: outside
 * production a missing configuration gets a key generated once and kept under `.data/` (mode 0600), so encrypted
 * histories stay readable across restarts.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { KEY_BYTES, type PayloadKey } from './payload-codec.js';

/** What a key id may look like: it is stored in clear in every payload's metadata. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Parses `id:base64,id:base64` (commas or newlines); errors name the entry, never the key material. */
export function parsePayloadKeys(value: string): PayloadKey[] {
  const entries = value
    .split(/[,\n]/)
    .map((part) => part.trim())
    .filter((part) => part.length > 0 && !part.startsWith('#'));
  if (entries.length === 0) throw new Error('no keys: expected "id:base64key[,id:base64key...]"');
  const keys = entries.map((entry, index) => {
    const colon = entry.indexOf(':');
    const id = colon > 0 ? entry.slice(0, colon) : '';
    const material = colon > 0 ? entry.slice(colon + 1) : '';
    if (!KEY_ID_PATTERN.test(id)) {
      throw new Error(
        `entry ${index + 1}: expected "id:base64key" with an id of letters, digits, ".", "_", "-"`,
      );
    }
    const key = Buffer.from(material, 'base64');
    if (!BASE64.test(material) || key.length !== KEY_BYTES) {
      throw new Error(
        `key "${id}": expected ${KEY_BYTES} bytes in base64 (e.g. \`openssl rand -base64 32\`)`,
      );
    }
    return { id, key };
  });
  const ids = keys.map((k) => k.id);
  const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
  if (duplicate) throw new Error(`key id "${duplicate}" appears twice`);
  return keys;
}

/** The `PAYLOAD_KEYS` text of some keys. */
export function formatPayloadKeys(keys: readonly PayloadKey[]): string {
  return keys.map(({ id, key }) => `${id}:${key.toString('base64')}`).join(',');
}

/** A fresh random key; the default id carries the creation date so rotations read in order. */
export function generatePayloadKey(
  id = `k${new Date().toISOString().slice(0, 10).replaceAll('-', '')}`,
): PayloadKey {
  return { id, key: randomBytes(KEY_BYTES) };
}

/** The development keys and whether this call created the file. */
export interface DevKeyFile {
  keys: PayloadKey[];
  created: boolean;
  /** True when the file was readable by others and its mode was tightened to 0600. */
  tightened: boolean;
}

/**
 * Reads the key file, creating it with one fresh key if absent. Creation is atomic (write aside, then hard-link
 * into place), so processes starting together agree on one key instead of each writing its own.
 */
export function loadOrCreateDevKeys(file: string): DevKeyFile {
  let created = false;
  try {
    statSync(file);
  } catch {
    mkdirSync(path.dirname(file), { recursive: true });
    const aside = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(aside, `${formatPayloadKeys([generatePayloadKey('dev-1')])}\n`, {
      mode: 0o600,
      flag: 'wx',
    });
    try {
      linkSync(aside, file);
      created = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      unlinkSync(aside);
    }
  }
  let tightened = false;
  if ((statSync(file).mode & 0o077) !== 0) {
    chmodSync(file, 0o600);
    tightened = true;
  }
  try {
    return { keys: parsePayloadKeys(readFileSync(file, 'utf8')), created, tightened };
  } catch (err) {
    throw new Error(`payload key file ${file}: ${(err as Error).message}`);
  }
}

/** `PAYLOAD_KEYS` for a multi-process run (chaos, bench): the environment's keys, else one fresh key for the run. */
export function payloadKeysForRun(id: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.PAYLOAD_KEYS || formatPayloadKeys([generatePayloadKey(id)]);
}
