/** Reading a raw workflow history the way an attacker with database access would: every string, base64 decoded too. */
import { Client, type ConnectionLike } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';

/** A payload as proto3 JSON (bytes fields base64), as the history JSON and the codec server carry it. */
export interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const BASE64 = /^[A-Za-z0-9+/_-]{4,}={0,2}$/;

/** The history as stored on the server, fetched by a client with no codec (nothing gets decoded on the way). */
export async function rawHistoryJson(connection: ConnectionLike, namespace: string, workflowId: string) {
  const client = new Client({ connection, namespace });
  return historyToJSON(await client.workflow.getHandle(workflowId).fetchHistory());
}

/** Every string of a JSON document, plus the decoding of each one that is valid base64 (payload bytes are). */
export function everyReadableString(json: string): string {
  const parts: string[] = [json];
  const visit = (node: unknown): void => {
    if (typeof node === 'string') {
      if (BASE64.test(node)) parts.push(Buffer.from(node, 'base64').toString('latin1'));
    } else if (Array.isArray(node)) {
      for (const item of node) visit(item);
    } else if (node && typeof node === 'object') {
      for (const value of Object.values(node)) visit(value);
    }
  };
  visit(JSON.parse(json));
  return parts.join('\n');
}

/** Every payload in a history JSON (anything with a `metadata.encoding`), in document order. */
export function payloadsIn(json: string): JsonPayload[] {
  const found: JsonPayload[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
    } else if (node && typeof node === 'object') {
      const candidate = node as JsonPayload;
      if (candidate.metadata && typeof candidate.metadata.encoding === 'string') {
        found.push({ metadata: candidate.metadata, data: candidate.data ?? '' });
        return;
      }
      for (const value of Object.values(node)) visit(value);
    }
  };
  visit(JSON.parse(json));
  return found;
}

/** The `encoding` of a JSON payload, decoded. */
export const encodingOf = (payload: JsonPayload) =>
  Buffer.from(payload.metadata?.encoding ?? '', 'base64').toString('utf8');
