export interface Line {
  description: string;
  quantity: number;
  unitPrice: number;
}

export function invoiceTotal(lines: Line[], taxRate: number): number {
  const subtotal = lines.reduce((sum, line) => sum + line.quantity * line.unitPrice, 0);
  return Math.round(subtotal * (1 + taxRate) * 100) / 100;
}

export function invoiceText(customer: string, lines: Line[], taxRate: number): string {
  const total = invoiceTotal(lines, taxRate);
  const body = lines.map((l) => `${l.quantity} x ${l.description} @ ${l.unitPrice.toFixed(2)}`);
  return [`Invoice for ${customer}`, ...body, `Total: ${total.toFixed(2)}`].join("\n");
}
