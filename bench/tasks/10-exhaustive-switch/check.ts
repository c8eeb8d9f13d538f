import { statusLabel } from "./input";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
assert(statusLabel("draft") === "Draft", "draft label wrong");
assert(statusLabel("published") === "Published", "published label wrong");
assert(statusLabel("archived") === "Archived", "archived label wrong");
