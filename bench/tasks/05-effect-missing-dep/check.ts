import { useDocumentTitle } from "./input";
import { mount } from "./mini-react";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
const titles: string[] = [];
const setTitle = (t: string): void => {
  titles.push(t);
};
const inst = mount(useDocumentTitle);
inst.render({ user: "ada", count: 1, setTitle });
inst.render({ user: "ada", count: 1, setTitle });
assert(titles.length === 1, `effect should not re-run when nothing changed (ran ${titles.length} times)`);
inst.render({ user: "ada", count: 2, setTitle });
assert(titles[titles.length - 1] === "2 unread - ada", `title after count change: ${titles.join(" | ")}`);
inst.render({ user: "bo", count: 2, setTitle });
assert(titles[titles.length - 1] === "2 unread - bo", `title after user change: ${titles.join(" | ")}`);
assert(titles.length === 3, `expected 3 title updates, got ${titles.length}`);
