"""`logomesh-tui export SESSION --format F -o PATH`: a recorded session as a training dataset."""

from __future__ import annotations

import argparse
import errno
import json
import os
from pathlib import Path

from ..config import EngineConfig
from ..errors import LogoMeshError, UsageError
from ..export import FORMATS, SessionView, export_session, load_session
from ..export.formats import DEFAULT_DPO_MARGIN
from ..sessions.store import read_events
from .args import command, json_flag

# A failed write for one of these reasons is a bad output path (exit 2); any other (a full
# disk, an I/O error) is a failed export (exit 1).
_BAD_PATH_ERRNOS = {errno.EACCES, errno.EPERM, errno.ENOENT, errno.ENOTDIR, errno.EISDIR,
                    errno.EEXIST, errno.EROFS, errno.ENAMETOOLONG, errno.ELOOP, errno.EINVAL}


def register(sub: argparse._SubParsersAction) -> None:
    p = command(
        sub, "export", cmd_export, "export a session as training data",
        description="Write a session as a dataset folder: train.jsonl (+ metadata.json for "
                    "training-data) and a README.md dataset card. Loads with Hugging Face "
                    "datasets: load_dataset('json', data_files='PATH/train.jsonl').")
    p.add_argument("session", metavar="SESSION",
                   help="a session id from `logomesh-tui sessions list` (a unique prefix "
                        "is enough) or a path to a session .jsonl file")
    p.add_argument("--format", "-f", choices=FORMATS, default="training-data",
                   help="training-data (full record with ratings and metadata), openai-chat "
                        "(SFT messages), sharegpt, or dpo (prompt/chosen/rejected)")
    p.add_argument("-o", "--output", metavar="PATH",
                   help="output folder (default: the export folder, LOGOMESH_EXPORTS_DIR or "
                        "./exports, under --name)")
    p.add_argument("--name", help="folder name inside the export folder (default: the "
                                  "session id); ignored with -o")
    p.add_argument("--force", action="store_true", help="replace an existing export")
    p.add_argument("--no-card", action="store_true", help="do not write README.md")
    json_flag(p, "print what was written as one JSON document")
    p.add_argument("--content-only", action="store_true",
                   help="replies as plain text instead of the structured JSON the models wrote")
    p.add_argument("--min-quality", type=float, metavar="R",
                   help="keep only turns rated at least R (0-1)")
    p.add_argument("--dpo-margin", type=float, default=DEFAULT_DPO_MARGIN, metavar="M",
                   help="least difference in peer approval share for a preference pair "
                        f"(default {DEFAULT_DPO_MARGIN})")
    p.add_argument("--pair", metavar="SESSION",
                   help="with --format dpo: a branch of the same session; pairs the two "
                        "branches' code where verification passed one and failed the other")


def cmd_export(args: argparse.Namespace) -> int:
    config = EngineConfig.load()
    view = read_session(args.session, config.sessions_dir)
    pair = read_session(args.pair, config.sessions_dir) if args.pair else None
    if args.output is not None:
        check_output_folder(Path(args.output))
    try:
        report = export_session(
            view, args.format, name=args.name, out_dir=args.output,
            sessions_dir=config.sessions_dir, config=config, card=not args.no_card,
            overwrite=args.force, content_only=args.content_only, min_quality=args.min_quality,
            dpo_margin=args.dpo_margin, pair=pair)
    except OSError as exc:
        where = args.output if args.output is not None else "the export folder"
        message = (f"cannot write the export to {where}: {exc.strerror or exc}; "
                   "choose a folder you can write with -o PATH")
        if exc.errno in _BAD_PATH_ERRNOS:
            raise UsageError(message) from None
        raise LogoMeshError(message) from None
    if args.json:
        print(json.dumps({"session_id": report.session_id, "format": report.format,
                          "folder": str(report.folder), "data_file": str(report.data_file),
                          "records": report.records, "files": [str(f) for f in report.files],
                          "warnings": report.warnings}, indent=2))
        return 0
    print(report.summary())
    for path in report.files[1:]:
        print(f"  also wrote {path}")
    return 0


def looks_like_path(session: str) -> bool:
    """A SESSION with a path separator or the .jsonl suffix names a file; anything else is an
    id (or id prefix), looked up in the sessions folder under the safe-name rules."""
    seps = {os.sep, os.altsep or os.sep, "/"}
    return any(sep in session for sep in seps) or session.endswith(".jsonl")


def read_session(session: str, sessions_dir: Path) -> SessionView:
    """The session SESSION names: a session .jsonl file given by path, or an id."""
    if not looks_like_path(session):
        try:
            return load_session(session, sessions_dir)
        except OSError as exc:
            raise LogoMeshError(f"cannot read session {session}: {exc.strerror or exc}") from None
    path = Path(session).expanduser()
    hint = "give a session .jsonl file or an id from `logomesh-tui sessions list`"
    if not path.exists():
        raise UsageError(f"session file {session} does not exist; {hint}")
    if not path.is_file():
        raise UsageError(f"{session} is not a file; {hint}")
    if path.suffix != ".jsonl":
        raise UsageError(f"{session} is not a session file (it does not end in .jsonl); {hint}")
    try:
        result = read_events(path)
    except OSError as exc:
        raise UsageError(f"cannot read session file {session}: {exc.strerror or exc}") from None
    if not result.events:
        raise UsageError(f"{session} is not a session file: no line of it is a session event; "
                         f"{hint}")
    view = SessionView.from_events(path.stem, result.events)
    view.torn_tail = result.torn_tail
    view.damaged = list(result.damaged)
    return view


def check_output_folder(folder: Path) -> None:
    """Refuse an output path that cannot become a folder: one under a file, or an existing
    file. The nearest existing folder must be writable. Other failures show when writing."""
    hint = "choose another output folder with -o PATH"
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"-o {folder}: it is a file, not a folder; {hint}")
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
        if probe.exists() and not probe.is_dir():
            raise UsageError(f"-o {folder}: {probe} is a file, so no folder can be made "
                             f"under it; {hint}")
    if probe.is_dir() and not os.access(probe, os.W_OK | os.X_OK):
        raise UsageError(f"-o {folder}: cannot write in {probe} (permission denied); {hint}")
