"""`logomesh-tui models list|pull`."""

from __future__ import annotations

import argparse
import json

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from rich.table import Table

from ..catalog import Catalog, pull
from ..config import EngineConfig


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list and pull models")
    msub = p.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    lp = msub.add_parser("list", help="show the catalog")
    lp.add_argument("--json", action="store_true", help="print JSON for scripts")
    lp.set_defaults(func=cmd_list)
    pp = msub.add_parser("pull", help="download models into the models folder")
    pp.add_argument("names", nargs="*", metavar="NAME", help="catalog names")
    pp.add_argument("--default-pool", action="store_true", help="pull the four offline models")
    pp.add_argument("--force", action="store_true", help="download again even if on disk")
    pp.set_defaults(func=cmd_pull)


def _catalog() -> Catalog:
    return Catalog.from_config(EngineConfig.load())


def catalog_rows(catalog: Catalog) -> list[dict]:
    rows = []
    for spec in catalog.specs():
        path = catalog.path_for(spec)
        rows.append({
            "name": spec.name, "family": spec.family, "params": spec.params, "quant": spec.quant,
            "size_bytes": path.stat().st_size if path.exists() else spec.size_bytes,
            "context_length": spec.context_length, "on_disk": path.exists(),
            "source": spec.source.describe(), "default_pool": spec.default_pool,
            "path": str(path)})
    return rows


def cmd_list(args: argparse.Namespace) -> int:
    catalog = _catalog()
    rows = catalog_rows(catalog)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    table = Table(title=f"Models ({catalog.models_dir})")
    table.add_column("name", no_wrap=True)
    for col in ("family", "params", "quant", "size", "context", "on disk", "source"):
        table.add_column(col)
    for r in rows:
        size = f"{r['size_bytes'] / 1e6:,.0f} MB" if r["size_bytes"] else "?"
        table.add_row(r["name"], r["family"], r["params"], r["quant"], size, str(r["context_length"]),
                      "[green]yes[/]" if r["on_disk"] else "no", r["source"])
    Console().print(table)
    return 0


def cmd_pull(args: argparse.Namespace) -> int:
    catalog = _catalog()
    names = list(args.names)
    if args.default_pool:
        names += [s.name for s in catalog.specs() if s.default_pool and s.name not in names]
    if not names:
        print("error: name a model to pull (see `logomesh-tui models list`) or use --default-pool")
        return 2
    for name in names:
        catalog.get(name)  # fail on a typo before downloading anything
    console = Console(stderr=True)
    with Progress(TextColumn("{task.fields[name]:<20}"), BarColumn(), DownloadColumn(),
                  TransferSpeedColumn(), TextColumn("{task.fields[stage]}"), console=console) as progress:
        for name in names:
            task = progress.add_task("pull", name=name, stage="", total=None)

            def report(done: int, total: int, stage: str, task=task) -> None:
                progress.update(task, completed=done, total=total or None, stage=stage)

            path = pull(catalog, name, report, force=args.force)
            progress.update(task, stage=f"→ {path}")
    return 0
