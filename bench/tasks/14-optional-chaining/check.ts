import { shippingLabel } from "./input";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
assert(shippingLabel({ name: "Ada" }) === "NO ADDRESS", "missing address");
const a = shippingLabel({ name: "Ada", address: { street: "1 Main St", city: "Oslo" } });
assert(a === "Ada, 1 Main St, Oslo", `no unit: ${a}`);
const b = shippingLabel({ name: "Bo", address: { street: "2 High St", unit: "4B", city: "Rome" } });
assert(b === "Bo, 2 High St #4B, Rome", `with unit: ${b}`);
