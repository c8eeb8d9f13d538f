export interface Order {
  customer: string;
  amount: number;
}

export function groupTotals(orders: Order[]): Map<string, number> {
  const totals = new Map<string, number>();
  for (const order of orders) {
    if (!totals.has(order.customer)) totals.set(order.customer, 0);
    totals.set(order.customer, totals.get(order.customer) + order.amount);
  }
  return totals;
}
