export function totalCents(prices: readonly string[]): number {
  let total = 0;
  for (const price of prices) {
    total += parseFloat(price);
  }
  return Math.floor(total * 100);
}
