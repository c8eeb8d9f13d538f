const PRICE = /^(-?)(\d+)(?:\.(\d{1,2}))?$/;

export function totalCents(prices: readonly string[]): number {
  let total = 0;
  for (const price of prices) {
    const m = PRICE.exec(price);
    if (m === null) throw new Error(`not a price: ${JSON.stringify(price)}`);
    const cents = Number(m[2]) * 100 + Number((m[3] ?? "0").padEnd(2, "0"));
    total += m[1] === "-" ? -cents : cents;
  }
  return total;
}
