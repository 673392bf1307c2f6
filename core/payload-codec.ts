/**
 * AES-256-GCM payload codec: every payload a client or worker sends to Temporal is sealed with the current key, so
 * workflow histories hold ciphertext only. The key id travels in the payload's metadata, so older keys keep
 * decrypting after a rotation; payloads without the encryption marker (histories recorded before encryption) pass
 * through untouched.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
// Default import: the package is CommonJS, and Node's ESM loader cannot see its named exports.
import proto from '@temporalio/proto';

const { Payload: PayloadMessage } = proto.temporal.api.common.v1;

/** Encoding of a sealed payload; the UI and the codec server recognise it by this metadata value. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** Metadata entry naming the key a payload was sealed with. */
export const KEY_ID_METADATA = 'encryption-key-id';
/** Metadata entry naming the cipher, so a future cipher change can be told apart. */
export const CIPHER_METADATA = 'encryption-cipher';
/** The only cipher this codec writes. */
export const CIPHER = 'AES-256-GCM';

const IV_BYTES = 12;
const TAG_BYTES = 16;
/** AES-256 key length in bytes. */
export const KEY_BYTES = 32;

/** One configured key: an id (public, stored with each payload) and 32 bytes of key material. */
export interface PayloadKey {
  id: string;
  key: Buffer;
}

/** A payload that cannot be opened: unknown key id, wrong key material, tampered data or a malformed envelope. */
export class PayloadDecryptionError extends Error {
  override readonly name = 'PayloadDecryptionError';
}

const utf8 = (value: string) => new TextEncoder().encode(value);
const text = (value: Uint8Array | null | undefined) =>
  value ? Buffer.from(value).toString('utf8') : undefined;

/** True when a payload carries the encryption marker (whatever its key). */
export function isEncrypted(payload: Payload): boolean {
  return text(payload.metadata?.encoding) === ENCRYPTED_ENCODING;
}

/** Key id a sealed payload names, or undefined for a plain one. */
export function keyIdOf(payload: Payload): string | undefined {
  return isEncrypted(payload) ? text(payload.metadata?.[KEY_ID_METADATA]) : undefined;
}

/** Seals with one key, opens with any configured key; safe to share between clients and workers. */
export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly keys: ReadonlyMap<string, Buffer>;
  /** Id of the key new payloads are sealed with. */
  readonly encryptionKeyId: string;

  constructor(keys: readonly PayloadKey[], encryptionKeyId?: string) {
    if (keys.length === 0) throw new Error('AesGcmPayloadCodec needs at least one key');
    for (const { id, key } of keys) {
      if (key.length !== KEY_BYTES)
        throw new Error(`payload key ${id} is ${key.length} bytes, not ${KEY_BYTES}`);
    }
    this.keys = new Map(keys.map(({ id, key }) => [id, key]));
    if (this.keys.size !== keys.length) throw new Error('payload key ids must be unique');
    const current = encryptionKeyId ?? keys[keys.length - 1]?.id;
    if (!current || !this.keys.has(current)) {
      throw new Error(`encryption key id ${current} is not among the configured payload keys`);
    }
    this.encryptionKeyId = current;
  }

  /** Ids of every key this codec can open, in configuration order. */
  get keyIds(): string[] {
    return [...this.keys.keys()];
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.seal(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.open(payload));
  }

  /** Serialises the whole payload (metadata and data) and seals it under the current key with a fresh IV. */
  seal(payload: Payload): Payload {
    const kid = this.encryptionKeyId;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(kid) as Buffer, iv);
    // The key id is authenticated too, so an envelope relabelled with another id fails to open.
    cipher.setAAD(utf8(kid));
    const plain = PayloadMessage.encode(payload).finish();
    const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: {
        encoding: utf8(ENCRYPTED_ENCODING),
        [KEY_ID_METADATA]: utf8(kid),
        [CIPHER_METADATA]: utf8(CIPHER),
      },
      data: sealed,
    };
  }

  /** Opens a sealed payload; a payload without the marker is returned as it is. */
  open(payload: Payload): Payload {
    if (!isEncrypted(payload)) return payload;
    const kid = keyIdOf(payload);
    if (!kid) throw new PayloadDecryptionError(`encrypted payload has no ${KEY_ID_METADATA} metadata`);
    const cipherName = text(payload.metadata?.[CIPHER_METADATA]) ?? CIPHER;
    if (cipherName !== CIPHER)
      throw new PayloadDecryptionError(`payload uses unsupported cipher ${cipherName}`);
    const key = this.keys.get(kid);
    if (!key) {
      throw new PayloadDecryptionError(
        `payload was encrypted with key id "${kid}", which is not configured (known: ${this.keyIds.join(', ')}); add it to PAYLOAD_KEYS`,
      );
    }
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < IV_BYTES + TAG_BYTES)
      throw new PayloadDecryptionError('encrypted payload is truncated');
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
    decipher.setAAD(utf8(kid));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([
        decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      throw new PayloadDecryptionError(
        `payload under key id "${kid}" failed authentication: the key material differs or the data was altered`,
      );
    }
    const inner = PayloadMessage.decode(plain);
    return { metadata: inner.metadata, data: inner.data };
  }
}
