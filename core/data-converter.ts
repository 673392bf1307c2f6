/**
 * The one data converter of the system: every client, worker and replayer builds it here from the configuration,
 * so they all seal and open payloads the same way. Production refuses to run without keys.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DataConverter } from '@temporalio/common';
import { type AppConfig, ConfigurationError, PROJECT_ROOT } from './config.js';
import type { Logger } from './logger.js';
import { AesGcmPayloadCodec } from './payload-codec.js';
import { loadOrCreateDevKeys } from './payload-keys.js';

/** How a process protects payloads: the converter to hand to clients and workers, and the codec behind it. */
export interface PayloadProtection {
  dataConverter: DataConverter;
  /** Null when encryption is off (development only). */
  codec: AesGcmPayloadCodec | null;
  /** One line for banners and logs: what encrypts, with which key, from where. */
  summary: string;
}

/**
 * Module of the failure converter that moves failure messages and stack traces into an (encrypted) payload; the SDK
 * loads it by path in clients and workers, and the workflow bundle is built with it (workers/workflow-bundle.ts).
 */
export const ENCODING_FAILURE_CONVERTER_PATH = fileURLToPath(
  new URL('./failure-converter.cjs', import.meta.url),
);

/**
 * The converter around a codec: payloads sealed by the codec, and failure messages and stack traces with them
 * (they quote what the code that failed had at hand: a provider's answer, an address). No codec means Temporal's
 * defaults: plain JSON payloads, failures in clear.
 */
export function dataConverterFor(codec: AesGcmPayloadCodec | null): DataConverter {
  return codec ? { payloadCodecs: [codec], failureConverterPath: ENCODING_FAILURE_CONVERTER_PATH } : {};
}

/**
 * Builds the process's payload protection. Keys come from PAYLOAD_KEYS; without them production throws and
 * development generates (once) and reuses a key in PAYLOAD_KEY_FILE, logging that it did.
 */
export function loadPayloadProtection(config: AppConfig, logger?: Logger): PayloadProtection {
  const production = config.env === 'production';
  const { payloads } = config;
  if (!payloads.encryption) {
    if (production) {
      throw new ConfigurationError([
        { variable: 'PAYLOAD_ENCRYPTION', message: 'false is not allowed when NODE_ENV=production' },
      ]);
    }
    logger?.warn(
      'payload encryption is OFF (PAYLOAD_ENCRYPTION=false): workflow histories hold plain customer data',
    );
    return { dataConverter: {}, codec: null, summary: 'OFF (PAYLOAD_ENCRYPTION=false)' };
  }
  let keys = payloads.keys;
  let source = 'PAYLOAD_KEYS';
  if (keys.length === 0) {
    if (production) {
      throw new ConfigurationError([
        {
          variable: 'PAYLOAD_KEYS',
          message:
            'must be set when NODE_ENV=production (workflow payloads are encrypted; ' +
            'e.g. PAYLOAD_KEYS="k1:$(openssl rand -base64 32)")',
        },
      ]);
    }
    const file = loadOrCreateDevKeys(payloads.keyFile);
    keys = file.keys;
    source = path.relative(PROJECT_ROOT, payloads.keyFile) || payloads.keyFile;
    if (file.created) {
      logger?.warn(
        { keyFile: payloads.keyFile },
        'generated a development payload key (mode 0600); set PAYLOAD_KEYS in production',
      );
    } else {
      logger?.info({ keyFile: payloads.keyFile }, 'using the development payload key file');
    }
    if (file.tightened)
      logger?.warn(
        { keyFile: payloads.keyFile },
        'payload key file was readable by others: mode set to 0600',
      );
  }
  const codec = new AesGcmPayloadCodec(keys, payloads.encryptionKeyId);
  return {
    dataConverter: dataConverterFor(codec),
    codec,
    summary: `AES-256-GCM, key "${codec.encryptionKeyId}" encrypts (${codec.keyIds.length} key(s) from ${source})`,
  };
}
