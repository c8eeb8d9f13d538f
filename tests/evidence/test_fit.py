"""Fitting a rewritten part of a big file back in: what the rest of the file has is not copied."""

from __future__ import annotations

from logomesh_tui.evidence.fit import fit_part, part_context
from logomesh_tui.evidence.types import CodeTask

HEAD = ('import { useState, useEffect } from "react";\n\n'
        "export interface Filters {\n  region: string;\n}\n\n")
PART = ("function FilterBar(props: any) {\n"
        "  return <input value={props.filters.region} />;\n}\n\n")
TAIL = ("export default function Dashboard() {\n"
        '  const [filters] = useState<Filters>({ region: "all" });\n'
        "  return <FilterBar filters={filters} />;\n}\n")


def focused(head: str, part: str, tail: str) -> CodeTask:
    """A Dashboard.tsx task narrowed to ``part``."""
    return CodeTask(instruction="Remove the `any`.", file_name="Dashboard.tsx",
                    starter=head + part + tail, focus=(len(head), len(head) + len(part)))


TASK = focused(HEAD, PART, TAIL)


def test_a_part_that_repeats_the_files_imports_and_types_keeps_only_what_it_adds():
    reply = ('import React, { useState, useMemo } from "react";\n'
             'import { useEffect } from "react";\n'
             'import { Filters } from "./types";\n\n'
             "interface Filters {\n  region: string;\n  search: string;\n}\n\n"
             "interface FilterBarProps {\n  filters: Filters;\n}\n\n"
             "function FilterBar(props: FilterBarProps) {\n"
             "  const region = useMemo(() => props.filters.region, [props.filters.region]);\n"
             "  return <input value={region} />;\n}\n\n"
             "export default function Dashboard() {\n  return null;\n}\n")
    fitted = fit_part(TASK, reply)
    assert 'import React, { useMemo } from "react";' in fitted
    assert "useEffect" not in fitted and "useState" not in fitted and "./types" not in fitted
    assert "interface Filters {" not in fitted  # the file's own Filters stays
    assert "interface FilterBarProps" in fitted and "function FilterBar(props: FilterBarProps)" in fitted
    assert "Dashboard" not in fitted  # declared in the rest of the file
    whole = TASK.compose(fitted)
    assert whole.count("interface Filters {") == 1 and whole.count("function Dashboard") == 1
    assert "}\n\nexport default function Dashboard" in whole  # the blank line between stays


def test_a_part_without_copies_and_a_task_without_focus_are_left_alone():
    reply = "function FilterBar(props: { filters: Filters }) {\n  return null;\n}\n"
    # Only the blank line that separated the original part from what follows is restored.
    assert fit_part(TASK, reply) == reply + "\n"
    whole = TASK.model_copy(update={"focus": None})
    text = 'import { useState } from "react";\nexport const x = 1;\n'
    assert fit_part(whole, text) == text


def test_a_part_is_shown_the_types_it_names_and_how_the_file_uses_it():
    head = ('import { useState } from "react";\n\n'
            'export type Region = "emea" | "apac";\n\n'
            "export interface Filters {\n  region: Region;\n}\n\n"
            "export interface Unrelated {\n  x: number;\n}\n\n")
    tail = ("export default function Dashboard() {\n"
            '  const [filters, setFilters] = useState<Filters>({ region: "emea" });\n'
            "  const onPick = (r: Region) => setFilters({ region: r });\n"
            "  return <FilterBar filters={filters} onPick={onPick} />;\n}\n")
    part = ("function FilterBar(props: any) {\n"
            "  const filters: Filters = props.filters;\n"
            "  return <input value={filters.region} />;\n}\n\n")
    shown = "\n".join(part_context(focused(head, part, tail)))
    assert "export interface Filters {" in shown and "region: Region;" in shown
    assert 'export type Region = "emea" | "apac";' in shown  # named by Filters
    assert "Unrelated" not in shown and "import" not in shown
    assert "<FilterBar filters={filters} onPick={onPick} />" in shown  # the call site, numbered
    assert "line 21: return <FilterBar" in shown
    assert "const onPick = (r: Region) => setFilters({ region: r });" in shown
    assert "const [filters, setFilters] = useState<Filters>" in shown
    assert "const filters: Filters = props.filters;" not in shown  # the part's own line
    assert part_context(CodeTask(instruction="x", starter=part)) == []


def test_a_common_strict_finding_comes_with_a_hint_and_its_line():
    from logomesh_tui.evidence.types import Diagnostic, hint_for

    d = Diagnostic(tool="tsc", line=2, code="TS2322",
                   message="Type 'string' is not assignable to type '\"all\" | Region'.")
    shown = d.render(["const a = 1;", "  region: e.target.value,"])
    assert "at: region: e.target.value," in shown and "value as TheType" in shown
    # The same code for a non-literal target gets no literal-union hint.
    assert hint_for("TS2322", "Type 'string' is not assignable to type 'number'.") == ""
    assert "let" in hint_for("TS2588", "Cannot assign to 'key' because it is a constant.")
    assert "undefined" in hint_for("TS2345", "Argument of type 'V | undefined' is not "
                                   "assignable to parameter of type 'V'.")
    assert "hint" not in d.render()  # an evidence line without its source stays one line


def test_an_unnamed_possibly_undefined_object_is_named_from_its_column():
    from logomesh_tui.evidence.types import Diagnostic

    line = "    totals.set(order.customer, totals.get(order.customer) + order.amount);"
    d = Diagnostic(tool="tsc", line=1, column=line.index("totals.get") + 1, code="TS2532",
                   message="Object is possibly 'undefined'.")
    assert "the expression: totals.get(order.customer)\n" in d.render([line])
    # A message that names its value, or a column at no expression, adds nothing.
    named = d.model_copy(update={"code": "TS18048", "message": "'x' is possibly 'undefined'."})
    assert "the expression" not in named.render([line])
    assert "the expression" not in d.model_copy(update={"column": 5 + len(line)}).render([line])
