/**
 * The persisted operations: each file of graph/operations/ is one operation, known by the sha256 (hex) of its
 * text, as clients send it in `extensions.persistedQuery.sha256Hash` (Apollo's protocol) or as `documentId`.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { OPERATIONS_DIR } from './subgraphs.js';

/** One operation of the allow-list. */
export interface PersistedOperation {
  name: string;
  hash: string;
  document: string;
}

/** The sha256 hex of a document's text, the key it is persisted under. */
export function operationHash(document: string): string {
  return createHash('sha256').update(document).digest('hex');
}

/** Every operation of graph/operations/, by name. */
export function persistedOperations(): Map<string, PersistedOperation> {
  const operations = new Map<string, PersistedOperation>();
  for (const file of readdirSync(OPERATIONS_DIR)
    .filter((f) => f.endsWith('.graphql'))
    .sort()) {
    const document = readFileSync(path.join(OPERATIONS_DIR, file), 'utf8');
    const name = path.basename(file, '.graphql');
    operations.set(name, { name, hash: operationHash(document), document });
  }
  return operations;
}
