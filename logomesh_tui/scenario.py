"""Scenario files: a whole headless collaboration described in TOML.

::

    name = "refactor review"
    protocol = "four-round"          # four-round | round-robin | debate
    prompt = "Analyse this component ..."
    input_files = ["Dashboard.tsx"]  # relative to this file's folder (or the current folder)
    arbitration = "highest-score"    # highest-score | first | ask

    [roles]
    primary-analyzer = "qwen2.5-coder-1.5b"          # role = model
    [roles.architecture-critic]                      # or a table with a weight and instructions
    model = "qwen2.5-coder-0.5b"
    weight = 1.5

    [limits]
    max_rounds = 4
    max_tokens = 192
    n_ctx = 4096

Errors name the field that is wrong (``roles.architecture-critic.model: field required``).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .conversation.consensus import ARBITRATION_POLICIES
from .conversation.protocols import get_protocol
from .conversation.session import ResourceLimits
from .errors import LogoMeshError, UsageError, describe_validation_error

_ROLE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
MAX_INPUT_BYTES = 2_000_000


class ScenarioError(UsageError):
    """The scenario file is missing, unreadable or has a wrong field."""


class RoleSpec(BaseModel):
    """One seat at the table: which model plays the role, how much its vote weighs."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1, description="catalog name, e.g. qwen2.5-coder-1.5b")
    weight: float = Field(default=1.0, gt=0, description="weight of this role's votes")
    instructions: str | None = Field(default=None, description="replaces the role description")


class ScenarioLimits(BaseModel):
    """Bounds of the run; ``n_ctx`` is the context window each model is loaded with."""

    model_config = ConfigDict(extra="forbid")

    max_rounds: int | None = Field(default=None, ge=1)
    min_rounds: int = Field(default=1, ge=1)
    max_tokens: int = Field(default=256, ge=16)
    max_content_chars: int | None = Field(default=None, ge=40)
    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    turn_timeout_s: float | None = Field(default=None, gt=0)
    concurrency: int | None = Field(default=None, ge=1)
    consensus_threshold: float = Field(default=0.75, gt=0.0, le=1.0)
    max_total_tokens: int | None = Field(default=None, ge=1)
    n_ctx: int | None = Field(default=None, ge=256)


class Scenario(BaseModel):
    """A collaboration to run headless with ``logomesh-tui run``."""

    model_config = ConfigDict(extra="forbid")

    name: str = ""
    description: str = ""
    protocol: str = "four-round"
    prompt: str = Field(min_length=1)
    input_files: list[str] = Field(default_factory=list)
    arbitration: str = "highest-score"
    roles: dict[str, RoleSpec] = Field(min_length=1)
    limits: ScenarioLimits = Field(default_factory=ScenarioLimits)
    path: Path | None = Field(default=None, exclude=True)

    @field_validator("roles", mode="before")
    @classmethod
    def _role_shorthand(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {k: ({"model": spec} if isinstance(spec, str) else spec)
                    for k, spec in v.items()}
        return v

    @field_validator("roles")
    @classmethod
    def _role_names(cls, v: dict[str, RoleSpec]) -> dict[str, RoleSpec]:
        for name in v:
            if not _ROLE_RE.match(name):
                raise ValueError(f"role name {name!r} must be letters, digits, '-' or '_'")
        return v

    @field_validator("protocol")
    @classmethod
    def _known_protocol(cls, v: str) -> str:
        try:
            return get_protocol(v).name
        except LogoMeshError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("arbitration")
    @classmethod
    def _known_policy(cls, v: str) -> str:
        if v not in ARBITRATION_POLICIES:
            raise ValueError(f"unknown policy {v!r}; choose one of: "
                             f"{', '.join(ARBITRATION_POLICIES)}")
        return v

    @classmethod
    def load(cls, path: str | Path) -> Scenario:
        """Read and validate a scenario file; raises ScenarioError naming the bad field."""
        path = Path(path)
        if not path.is_file():
            raise ScenarioError(f"scenario file {path} not found; see examples/seed-scenario.toml")
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioError(f"{path}: not valid TOML: {exc}") from None
        except UnicodeDecodeError:
            raise ScenarioError(f"{path}: not a UTF-8 text file") from None
        return cls.from_dict(data, path)

    @classmethod
    def from_dict(cls, data: dict[str, Any], path: Path | None = None) -> Scenario:
        try:
            scenario = cls.model_validate(data)
        except ValidationError as exc:
            where = f"{path}: " if path else ""
            raise ScenarioError(where + describe_validation_error(exc)) from None
        scenario.path = path
        return scenario

    def resolve_input(self, name: str) -> Path:
        """Where an input file is: next to the scenario first, then the current folder."""
        base = self.path.parent if self.path else Path.cwd()
        for candidate in (base / name, Path.cwd() / name):
            if candidate.is_file():
                return candidate
        idx = self.input_files.index(name) if name in self.input_files else 0
        raise ScenarioError(
            f"input_files[{idx}]: file {name!r} not found next to the scenario ({base}) or in "
            f"the current folder; fix the path in the scenario")

    def read_inputs(self) -> dict[str, str]:
        """The input files' text by name, checked to exist now (at run time)."""
        out = {}
        for i, name in enumerate(self.input_files):
            p = self.resolve_input(name)
            if p.stat().st_size > MAX_INPUT_BYTES:
                raise ScenarioError(f"input_files[{i}]: {name} is larger than "
                                    f"{MAX_INPUT_BYTES // 1_000_000} MB; give a smaller file")
            try:
                out[name] = p.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                raise ScenarioError(f"input_files[{i}]: {name} is not UTF-8 text") from None
        return out

    def resource_limits(self, max_rounds: int | None = None) -> ResourceLimits:
        data = self.limits.model_dump(exclude={"n_ctx"})
        if max_rounds is not None:
            data["max_rounds"] = max_rounds
        return ResourceLimits(**data)


def example_scenario_path() -> Path | None:
    """The bundled example conversation (``examples/seed-scenario.toml``): at the repository
    root in a checkout or an editable install, or under ``<prefix>/share/logomesh-tui/`` where a
    wheel puts it; None when neither is there."""
    import sys

    for base in (Path(__file__).resolve().parents[1] / "examples",
                 Path(sys.prefix) / "share" / "logomesh-tui" / "examples"):
        if (base / "seed-scenario.toml").is_file():
            return base / "seed-scenario.toml"
    return None
