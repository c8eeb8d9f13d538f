"""`logomesh-tui models list|show|pull|rm`."""

from __future__ import annotations

import argparse
import json
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from rich.table import Table

from ..catalog import Catalog, pull, remove
from ..catalog.specs import RemoteSource
from ..config import EngineConfig
from ..errors import UsageError
from .args import actions, command, json_flag


def register(sub: argparse._SubParsersAction) -> None:
    msub = actions(sub, "models", "list, show, pull and remove models", "models_command")
    json_flag(command(msub, "list", cmd_list, "show the catalog"), "print JSON for scripts")
    sp = command(msub, "show", cmd_show,
                 "GGUF metadata and the memory a load would take (before any download)")
    sp.add_argument("name", metavar="NAME",
                    help="catalog name, hf:OWNER/REPO/FILE.gguf, or a path to a .gguf file")
    sp.add_argument("--n-ctx", type=int, default=None, metavar="N",
                    help="context window to estimate for (default: the config's n_ctx)")
    json_flag(sp)
    pp = command(msub, "pull", cmd_pull, "download models into the models folder")
    pp.add_argument("names", nargs="*", metavar="NAME",
                    help="catalog names or hf:OWNER/REPO/FILE.gguf")
    pp.add_argument("--default-pool", action="store_true", help="pull the four offline models")
    pp.add_argument("--force", action="store_true", help="download again even if on disk")
    command(msub, "rm", cmd_rm, "delete a model from the models folder").add_argument(
        "names", nargs="+", metavar="NAME", help="catalog names or hf: ids")


def _catalog(config: EngineConfig | None = None) -> Catalog:
    return Catalog.from_config(config or EngineConfig.load())


def catalog_rows(catalog: Catalog) -> list[dict]:
    rows = []
    for spec in catalog.specs() + [catalog.get(n) for n in catalog.hf_names_on_disk()]:
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


def describe_model(catalog: Catalog, name: str, n_ctx: int) -> dict[str, Any]:
    """Everything ``models show`` reports: catalog entry, GGUF header facts (from the file when
    it is on disk, else from the catalog) and the memory estimate for ``n_ctx``."""
    spec = catalog.get(name)
    path = catalog.path_for(spec)
    doc: dict[str, Any] = {
        "name": spec.name, "family": spec.family, "params": spec.params, "quant": spec.quant,
        "source": spec.source.describe(), "on_disk": catalog.is_on_disk(spec),
        "path": None if isinstance(spec.source, RemoteSource) else str(path),
        "size_bytes": path.stat().st_size if path.is_file() else spec.size_bytes,
        "sha256": spec.sha256, "chat_format": spec.chat_format or "the GGUF's template",
        "default_pool": spec.default_pool, "offline": spec.offline,
        "metadata": None, "metadata_from": "none", "memory": None,
    }
    if isinstance(spec.source, RemoteSource):
        ep = catalog.remote(spec.source.endpoint)
        doc.update(context_length=ep.n_ctx, n_ctx=min(n_ctx, ep.n_ctx),
                   remote={"base_url": ep.base_url, "model": ep.model})
        return doc
    info, origin = catalog.header_info(name)
    train_ctx = (info.context_length if info else 0) or spec.context_length
    doc["context_length"] = train_ctx or None
    effective = min(n_ctx, train_ctx) if train_ctx else n_ctx
    doc["n_ctx"] = effective
    if info is None:
        doc["note"] = f"no header facts for {name} until it is on disk: `logomesh-tui models pull {name}`"
        return doc
    doc["metadata_from"] = origin
    doc["metadata"] = {"arch": info.arch, "n_layer": info.n_layer, "n_embd": info.n_embd,
                       "n_head": info.n_head, "n_head_kv": info.n_head_kv,
                       "n_vocab": info.n_vocab, "has_chat_template": info.has_chat_template}
    total = info.estimate_bytes(effective)
    kv = info.kv_cache_bytes(effective)
    from ..catalog.gguf_meta import WORKER_BASE_BYTES

    doc["memory"] = {"n_ctx": effective, "weights_bytes": info.file_size,
                     "repacked_bytes": info.repacked_bytes, "kv_cache_bytes": kv,
                     "compute_and_worker_bytes": total - info.file_size - info.repacked_bytes - kv,
                     "worker_base_bytes": WORKER_BASE_BYTES, "total_bytes": total}
    return doc


def cmd_show(args: argparse.Namespace) -> int:
    config = EngineConfig.load()
    if args.n_ctx is not None and args.n_ctx < 1:
        raise UsageError(f"--n-ctx must be a positive number of tokens, got {args.n_ctx}")
    doc = describe_model(_catalog(config), args.name, args.n_ctx or config.n_ctx)
    if args.json:
        print(json.dumps(doc, indent=2))
        return 0
    table = Table(title=f"{doc['name']}", show_header=False)
    table.add_column("field", no_wrap=True)
    table.add_column("value")
    for key in ("family", "params", "quant", "source", "on_disk", "path", "size_bytes",
                "context_length", "sha256", "chat_format"):
        if doc.get(key) is not None:
            value = f"{doc[key]:,}" if key == "size_bytes" else str(doc[key])
            table.add_row(key, value)
    if doc["metadata"]:
        for key, value in doc["metadata"].items():
            table.add_row(f"{key} ({doc['metadata_from']})", str(value))
    if doc["memory"]:
        mem = doc["memory"]
        table.add_row(f"memory at n_ctx {mem['n_ctx']}",
                      f"{mem['total_bytes'] / 1e6:,.0f} MB = weights {mem['weights_bytes'] / 1e6:,.0f}"
                      f" + repacked {mem['repacked_bytes'] / 1e6:,.0f}"
                      f" + KV cache {mem['kv_cache_bytes'] / 1e6:,.0f}"
                      f" + compute and worker {mem['compute_and_worker_bytes'] / 1e6:,.0f}")
    if doc.get("note"):
        table.add_row("note", doc["note"])
    Console().print(table)
    return 0


def cmd_pull(args: argparse.Namespace) -> int:
    catalog = _catalog()
    names = list(args.names)
    if args.default_pool:
        names += [s.name for s in catalog.specs() if s.default_pool and s.name not in names]
    if not names:
        raise UsageError("name a model to pull (see `logomesh-tui models list`) or use "
                         "--default-pool")
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


def cmd_rm(args: argparse.Namespace) -> int:
    catalog = _catalog()
    for name in args.names:
        catalog.get(name)
    for name in args.names:
        for path in remove(catalog, name):
            print(f"removed {path}")
    return 0
