/** Search attributes the saga keeps current, so operators can filter orders in the Temporal UI. */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Current order status (`OrderStatus="COMPENSATING"` in the UI's filter). */
export const ORDER_STATUS_KEY = defineSearchAttributeKey('OrderStatus', SearchAttributeType.KEYWORD);
/** The customer who placed the order. */
export const CUSTOMER_ID_KEY = defineSearchAttributeKey('CustomerId', SearchAttributeType.KEYWORD);

/** Every custom attribute, for registering them on a server (`--search-attribute Name=Keyword`). */
export const ORDER_SEARCH_ATTRIBUTES = [ORDER_STATUS_KEY, CUSTOMER_ID_KEY];
