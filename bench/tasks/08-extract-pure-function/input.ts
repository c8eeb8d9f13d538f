export interface Line {
  description: string;
  quantity: number;
  unitPrice: number;
}

export function invoiceText(customer: string, lines: Line[], taxRate: number): string {
  let subtotal = 0;
  for (const line of lines) {
    subtotal += line.quantity * line.unitPrice;
  }
  const total = Math.round(subtotal * (1 + taxRate) * 100) / 100;
  const body = lines.map((l) => `${l.quantity} x ${l.description} @ ${l.unitPrice.toFixed(2)}`);
  return [`Invoice for ${customer}`, ...body, `Total: ${total.toFixed(2)}`].join("\n");
}
