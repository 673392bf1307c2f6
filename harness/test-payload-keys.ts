/** Payload keys for tests: a fresh random key per call, so no test reads or writes the development key file. */
import { formatPayloadKeys, generatePayloadKey } from '../core/payload-keys.js';

/** Environment with a fresh `PAYLOAD_KEYS` (one key, id `test-1` unless given). */
export function testPayloadEnv(id = 'test-1'): { PAYLOAD_KEYS: string } {
  return { PAYLOAD_KEYS: formatPayloadKeys([generatePayloadKey(id)]) };
}
