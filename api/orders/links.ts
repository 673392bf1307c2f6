/** Hypermedia links of an order, so clients follow URLs instead of building them. */
export function orderLinks(orderId: string) {
  const self = `/v1/orders/${orderId}`;
  return {
    self,
    cancel: `${self}/cancel`,
    events: `${self}/events`,
    notifications: `${self}/notifications`,
  };
}
