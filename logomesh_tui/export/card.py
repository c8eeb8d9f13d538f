"""The dataset card (README.md beside the data), in the Hugging Face Hub's format.

The YAML header declares ``train.jsonl`` as the train split, so ``load_dataset(folder)`` and
``load_dataset("json", data_files=folder/"train.jsonl")`` both work.
"""

from __future__ import annotations

from typing import Any

from .view import SessionView

_FIELDS = {
    "openai-chat": "`messages`: list of `{role, content}` — system prompt, the context the model "
                   "saw, and its reply as the last `assistant` message (TRL SFTTrainer format).",
    "sharegpt": "`conversations`: list of `{from, value}` with `from` in system/human/gpt.",
    "dpo": "`prompt`, `chosen`, `rejected`: conversational preference pairs (TRL DPOTrainer "
           "format). Where the verifier judged two candidates for one file, the one that "
           "passed is chosen over the one that failed; elsewhere the chosen proposal had a "
           "higher peer approval share in its voting round.",
    "training-data": "one record per model turn: `prompt` (chat), `response`, `quality` "
                     "(`rating` and its components), `references`/`referenced_by`, tokens, "
                     "latency, tokens/s, `after_swap`; session metadata in `metadata.json`.",
}


def _cell(value: object) -> str:
    return " ".join(str(value).split()).replace("|", "/")


def _fence(text: str) -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}text\n{text}\n{fence}"


def dataset_card(view: SessionView, fmt: str, records: int,
                 metadata: dict[str, Any] | None = None) -> str:
    """Markdown with a YAML header. Session text is fenced so it cannot break the layout."""
    lines = [
        "---",
        "configs:",
        "- config_name: default",
        "  data_files:",
        "  - split: train",
        "    path: train.jsonl",
        "tags:",
        "- logomesh",
        "- multi-model-conversation",
        f"- {fmt}",
        "---",
        "",
        f"# LogoMesh session {view.session_id} ({fmt})",
        "",
        "A structured conversation among several local language models, each in a named role, "
        "exported by `logomesh-tui`.",
        "",
        f"- Protocol: {view.protocol or 'unknown'}",
        f"- Rounds run: {view.rounds_run()}",
        f"- Messages: {len(view.messages)} ({len(view.model_turns())} model turns), "
        f"votes: {len(view.votes)}, swaps: {len(view.swaps)}, failed turns: "
        f"{len(view.failures)}",
        f"- Records in `train.jsonl`: {records}",
    ]
    if metadata and metadata.get("final_consensus_score") is not None:
        lines.append(f"- Final consensus score: {metadata['final_consensus_score']}")
    lines += ["", "## Models", "", "| role | model |", "|---|---|"]
    for role, model in view.participants.items():
        lines.append(f"| {_cell(role)} | {_cell(model)} |")
    for s in view.swaps:
        lines.append(f"| {_cell(s.role)} | {_cell(s.new_model_id)} "
                     f"(swapped in, was {_cell(s.old_model_id or '')}) |")
    lines += ["", "## Fields", "", _FIELDS.get(fmt, ""), "",
              "## Quality rating", "",
              "Weighted mean of what the session measured: peer votes 0.4, how later messages "
              "treated the turn (built on vs. critiqued) 0.2, the model's confidence 0.2, and "
              "compile results 0.2 where the code pipeline ran; unmeasured parts are left out "
              "and the weights renormalised. See `logomesh_tui/export/quality.py`.",
              "", "## Task", "", _fence(view.prompt), ""]
    return "\n".join(lines)
