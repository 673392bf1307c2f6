/** Registers the saga's search attributes on a test server that was started without them. */
import type { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { ORDER_SEARCH_ATTRIBUTES } from '../../contracts/search-attributes.js';

export async function registerSearchAttributes(connection: Connection, namespace = 'default'): Promise<void> {
  const searchAttributes = Object.fromEntries(
    ORDER_SEARCH_ATTRIBUTES.map((key) => [
      key.name,
      temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    ]),
  );
  await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
}
