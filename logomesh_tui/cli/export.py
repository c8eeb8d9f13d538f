"""`logomesh-tui export SESSION --format F -o PATH`: a recorded session as a training dataset."""

from __future__ import annotations

import argparse
import json

from ..config import EngineConfig
from ..export import FORMATS, export_session
from ..export.formats import DEFAULT_DPO_MARGIN


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export", help="export a session as training data",
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
    p.add_argument("--json", action="store_true",
                   help="print what was written as one JSON document")
    p.add_argument("--content-only", action="store_true",
                   help="replies as plain text instead of the structured JSON the models wrote")
    p.add_argument("--min-quality", type=float, metavar="R",
                   help="keep only turns rated at least R (0-1)")
    p.add_argument("--dpo-margin", type=float, default=DEFAULT_DPO_MARGIN, metavar="M",
                   help="least difference in peer approval share for a preference pair "
                        f"(default {DEFAULT_DPO_MARGIN})")
    p.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    config = EngineConfig.load()
    report = export_session(
        args.session, args.format, name=args.name, out_dir=args.output,
        sessions_dir=config.sessions_dir, config=config, card=not args.no_card,
        overwrite=args.force, content_only=args.content_only, min_quality=args.min_quality,
        dpo_margin=args.dpo_margin)
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
