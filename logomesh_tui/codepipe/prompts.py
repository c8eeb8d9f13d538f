"""What the refactor pipeline says to the models.

Every edit prompt starts with the same system message and the file's whole text, so the model's
KV cache of that prefix is reused from one turn to the next (only the finding's part is new).
The finding, its rule in words and the few lines it is about come after, and the model is asked
for those lines back with the smallest change: a 1.5B model can do that; it cannot rewrite a
500-line file.
"""

from __future__ import annotations

import re

EDIT_SYSTEM = {"role": "system",
               "content": "You fix one reported problem at a time in a TypeScript React file. "
                          "You change as little as possible and keep the behaviour identical."}


def code_block(text: str, lang: str = "tsx") -> str:
    return f"```{lang}\n{text.rstrip()}\n```"


def outline(text: str) -> str:
    """The file with function bodies left out: imports, types and interfaces in full, each
    top-level declaration's first line, and the component state (``useState`` lines). The same
    for every turn on this text, so it is a shared KV prefix like the whole file would be."""
    out: list[str] = []
    in_type = False
    skipped = False
    for line in text.splitlines():
        top = bool(line) and not line[0].isspace()
        if top:
            in_type = bool(re.match(r"(?:export\s+)?(?:interface|type|enum)\b", line))
        keep = top or in_type or re.match(r"\s+const \[\w+, set\w+\] = use(?:State|Reducer)", line)
        if keep:
            if skipped and out and not out[-1].endswith("..."):
                out.append("  ...")
            out.append(line)
            skipped = False
        elif line.strip():
            skipped = True
    return "\n".join(out)


def file_prefix(name: str, text: str, *, whole: bool = True) -> str:
    """The shared start of every edit prompt for ``name``: the whole text, or its outline when
    the whole text is too long to evaluate on every model turn's budget."""
    if whole:
        return f"File {name}:\n{code_block(text)}\n\n"
    return f"File {name} (outline; ... marks omitted code):\n{code_block(outline(text))}\n\n"


def edit(name: str, text: str, rule: str, line: int, message: str, rule_text: str,
         start: int, end: int, excerpt: str, *, whole: bool = True,
         others: list[str] | None = None) -> str:
    where = f"line {line}" if line else "this file"
    rule_line = f"Rule: {rule_text}\n" if rule_text else ""
    around = ""
    if not whole:
        lines = text.splitlines()
        a, b = max(1, start - 12), min(len(lines), end + 8)
        around = f"Lines {a}-{b}:\n{code_block(chr(10).join(lines[a - 1:b]))}\n\n"
    return (f"{file_prefix(name, text, whole=whole)}{around}"
            f"Problem ({rule}) at {where}: {message}\n{rule_line}\n"
            f"Lines {start}-{end}:\n{code_block(excerpt)}\n\n"
            f"Reply with lines {start}-{end} corrected, in one ```tsx block: the same lines with "
            "the smallest change that fixes this problem. If the fix also needs a change "
            "elsewhere in the file, add SEARCH/REPLACE blocks after it:\n"
            "<<<<<<< SEARCH\n(exact lines from the file)\n=======\n(new lines)\n>>>>>>> REPLACE"
            + (f"\nThe other files being refactored: {', '.join(others[:12])}. If the fix needs "
               "a change in one of them, write its path alone on the line before that "
               "SEARCH/REPLACE block." if others else ""))


def edit_repair(feedback: str, start: int, end: int) -> str:
    return (f"That edit was rejected: {feedback}\n"
            f"Reply with lines {start}-{end} corrected again, in one ```tsx block, fixing the "
            "problem without that issue.")


def documentation(diff: str) -> str:
    return ("In one sentence, say what this change does. Name the changed functions or "
            "variables exactly as in the code, in `backticks`.\n"
            f"{code_block(diff, 'diff')}")
