/** Hypermedia links of an order, so clients follow URLs instead of building them. */
export function orderLinks(orderId: string) {
  return { self: `/v1/orders/${orderId}`, cancel: `/v1/orders/${orderId}/cancel` };
}
