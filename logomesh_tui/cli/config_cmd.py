"""`logomesh-tui config show [--json]`: the effective settings and where each came from."""

from __future__ import annotations

import argparse
import json
from typing import Any

from rich.console import Console
from rich.table import Table

from ..config import EngineConfig, config_file_origin
from .args import actions, command, json_flag


def register(sub: argparse._SubParsersAction) -> None:
    csub = actions(sub, "config", "show the effective configuration", "config_command",
                   description="Precedence, highest first: command line, LOGOMESH_* "
                               "environment variables, the config file, defaults.")
    json_flag(command(csub, "show", cmd_show, "every setting, its value and where it came from"),
              "print one JSON document for scripts")


def effective_config() -> dict[str, Any]:
    """``{"config_file": {...}, "settings": {field: {"value", "source"}}}`` for the current
    command line, environment and config file."""
    path, path_origin = config_file_origin()
    config, origins = EngineConfig.load_with_origins(path)
    values = config.model_dump(mode="json")
    return {
        "config_file": {"path": str(path), "exists": path.is_file(), "source": path_origin},
        "settings": {name: {"value": values[name], "source": origins[name]} for name in values},
    }


def cmd_show(args: argparse.Namespace) -> int:
    doc = effective_config()
    if args.json:
        print(json.dumps(doc, indent=2))
        return 0
    cf = doc["config_file"]
    console = Console()
    state = "" if cf["exists"] else " (not present)"
    console.print(f"config file: {cf['path']}{state} (from: {cf['source']})", soft_wrap=True,
                  markup=False)
    console.print("order: command line > environment (LOGOMESH_*) > config file > default",
                  soft_wrap=True)
    table = Table()
    table.add_column("setting", no_wrap=True)
    table.add_column("value")
    table.add_column("from")
    for name, entry in doc["settings"].items():
        table.add_row(name, json.dumps(entry["value"]), entry["source"])
    console.print(table)
    return 0
