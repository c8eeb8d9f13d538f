import * as mod from "./input";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
const lines: mod.Line[] = [
  { description: "pen", quantity: 3, unitPrice: 1.25 },
  { description: "book", quantity: 1, unitPrice: 12 },
];
const text = mod.invoiceText("Ada", lines, 0.2);
assert(text === "Invoice for Ada\n3 x pen @ 1.25\n1 x book @ 12.00\nTotal: 18.90", `invoiceText changed: ${text}`);
const exported = mod as unknown as Record<string, unknown>;
const invoiceTotal = exported["invoiceTotal"];
assert(typeof invoiceTotal === "function", "invoiceTotal must be exported");
const fn = invoiceTotal as (lines: mod.Line[], taxRate: number) => number;
assert(fn(lines, 0.2) === 18.9, `invoiceTotal(lines, 0.2) should be 18.9, got ${fn(lines, 0.2)}`);
assert(fn([], 0.2) === 0, "invoiceTotal([]) should be 0");
