export interface Order {
  customer: string;
  amount: number;
}

export function groupTotals(orders: Order[]): Map<string, number> {
  const totals = new Map<string, number>();
  for (const order of orders) {
    totals.set(order.customer, (totals.get(order.customer) ?? 0) + order.amount);
  }
  return totals;
}
