"""Export a session to a dataset folder: ``train.jsonl`` (+ ``metadata.json``) + ``README.md``.

Every file is scrubbed of secrets, checked, and written atomically (temp file + ``os.replace``),
so a crash leaves either the previous file or the complete new one.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import LogoMeshError, UsageError
from .card import dataset_card
from .formats import (
    DEFAULT_DPO_MARGIN,
    FORMATS,
    dpo_records,
    openai_chat_records,
    session_metadata,
    sharegpt_records,
    training_data_records,
)
from .safety import SecretScrubber, atomic_write_bytes, atomic_write_bytes_async, path_inside
from .view import SessionView, load_session

DATA_FILE = "train.jsonl"
METADATA_FILE = "metadata.json"
CARD_FILE = "README.md"


def default_exports_dir() -> Path:
    """``LOGOMESH_EXPORTS_DIR`` or ``exports`` in the working folder."""
    return Path(os.environ.get("LOGOMESH_EXPORTS_DIR") or "exports")


@dataclass
class ExportReport:
    """What an export wrote."""

    session_id: str
    format: str
    folder: Path
    records: int
    files: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def data_file(self) -> Path:
        return self.folder / DATA_FILE

    def summary(self) -> str:
        text = (f"exported {self.records} {self.format} record"
                f"{'s' if self.records != 1 else ''} from session {self.session_id} "
                f"to {self.data_file}")
        return text + "".join(f"; {w}" for w in self.warnings)


def build_records(view: SessionView, fmt: str, *, content_only: bool = False,
                  min_quality: float | None = None,
                  dpo_margin: float = DEFAULT_DPO_MARGIN) -> list[dict[str, Any]]:
    """The records of ``fmt`` for ``view`` (not yet scrubbed)."""
    if fmt == "openai-chat":
        return openai_chat_records(view, content_only=content_only, min_quality=min_quality)
    if fmt == "sharegpt":
        return sharegpt_records(view, content_only=content_only, min_quality=min_quality)
    if fmt == "dpo":
        return dpo_records(view, margin=dpo_margin)
    if fmt == "training-data":
        return training_data_records(view, content_only=content_only, min_quality=min_quality)
    raise UsageError(f"unknown export format {fmt!r}; choose one of: {', '.join(FORMATS)}")


def export_session(session: str | Path | SessionView, fmt: str = "training-data",
                   **options: Any) -> ExportReport:
    """Export ``session`` (an id, a ``.jsonl`` path, or a SessionView) as ``fmt``.

    The folder is ``out_dir`` when given (an explicit path from the command line), otherwise
    ``<exports_dir>/<name>`` where ``name`` (default: the session id) is checked so it cannot
    leave the export folder. An existing export is not replaced unless ``overwrite``. The
    options are :func:`prepare_export`'s.
    """
    report, files = prepare_export(session, fmt, **options)
    for path, data in files:
        atomic_write_bytes(path, data)
        report.files.append(path)
    return report


async def export_session_async(session: str | Path | SessionView, fmt: str = "training-data",
                               **options: Any) -> ExportReport:
    """:func:`export_session` for code on an event loop (the dashboard): the files are
    written with aiofiles, so a large export never stalls the UI."""
    report, files = prepare_export(session, fmt, **options)
    for path, data in files:
        await atomic_write_bytes_async(path, data)
        report.files.append(path)
    return report


def prepare_export(session: str | Path | SessionView, fmt: str = "training-data", *,
                   name: str | None = None, out_dir: Path | str | None = None,
                   exports_dir: Path | str | None = None,
                   sessions_dir: Path | str | None = None, config: Any | None = None,
                   card: bool = True, overwrite: bool = False, content_only: bool = False,
                   min_quality: float | None = None, dpo_margin: float = DEFAULT_DPO_MARGIN,
                   environ: dict[str, str] | None = None, pair: SessionView | None = None
                   ) -> tuple[ExportReport, list[tuple[Path, bytes]]]:
    """The report and the files (path, bytes) of an export, every file scrubbed and checked
    for secrets before any is written, so a refused export leaves nothing behind. ``pair`` (a
    branch of the same session, DPO only): pairs across the two branches instead."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown export format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    if min_quality is not None and not 0.0 <= min_quality <= 1.0:
        raise UsageError(f"min quality must be between 0 and 1, got {min_quality}")
    view = session if isinstance(session, SessionView) else load_session(session, sessions_dir)
    if out_dir is not None:
        folder = Path(out_dir)
    else:
        root = Path(exports_dir) if exports_dir is not None else default_exports_dir()
        default = f"{view.session_id}-vs-{pair.session_id}" if pair else view.session_id
        folder = path_inside(root, name or default)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} exists and is not a folder; choose another output path")
    if (folder / DATA_FILE).exists() and not overwrite:
        raise UsageError(f"{folder} already holds an export; choose another name or "
                            f"overwrite it (--force / overwrite=True)")

    if pair is not None:
        if fmt != "dpo":
            raise UsageError(f"--pair makes preference pairs: use --format dpo, not {fmt}")
        from .pairs import fork_pair_records

        records = fork_pair_records(view, pair)
        if not records:
            raise LogoMeshError(f"nothing to export from {view.session_id} and "
                                f"{pair.session_id}: at no position after the fork did "
                                "verification pass one branch's code and fail the other's")
    else:
        records = build_records(view, fmt, content_only=content_only,
                                min_quality=min_quality, dpo_margin=dpo_margin)
    if not records:
        why = ("no two code candidates for one file are separated by verification (one "
               f"passed, one failed) and no two proposals by peer votes (margin {dpo_margin})"
               if fmt == "dpo" else "no model turn passes the filters")
        raise LogoMeshError(f"nothing to export from session {view.session_id}: {why}")

    scrubber = SecretScrubber.from_environment(config, environ)
    report = ExportReport(view.session_id, fmt, folder, len(records))
    if view.torn_tail:
        report.warnings.append("ignored a torn last line")
    if view.bad_lines:
        report.warnings.append(f"skipped {view.bad_lines} unreadable line"
                               f"{'s' if view.bad_lines != 1 else ''}")

    lines = [json.dumps(scrubber.scrub(r), ensure_ascii=False) for r in records]
    files: list[tuple[Path, str]] = [(folder / DATA_FILE, "\n".join(lines) + "\n")]
    metadata = session_metadata(view)
    if fmt == "training-data":
        files.append((folder / METADATA_FILE,
                      json.dumps(scrubber.scrub(metadata), ensure_ascii=False, indent=2) + "\n"))
    if card:
        files.append((folder / CARD_FILE, dataset_card(view, fmt, len(records), metadata)))
    prepared = []
    for path, text in files:
        text = scrubber.scrub_text(text)
        scrubber.check(text, path.name)
        prepared.append((path, text.encode("utf-8")))
    return report, prepared
