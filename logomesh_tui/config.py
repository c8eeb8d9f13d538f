"""Configuration: pydantic-settings with the LOGOMESH_ env prefix and an optional TOML file.

Precedence, highest first: the command line (``load``'s overrides and the global options
``cli.main`` records with ``set_command_line``), ``LOGOMESH_<FIELD>`` environment variables, the
TOML config file (pydantic-settings' own ``TomlConfigSettingsSource``), then the defaults.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

import psutil
from platformdirs import user_cache_dir, user_config_dir, user_state_dir
from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from .errors import ConfigError, describe_validation_error

APP_NAME = "logomesh-tui"


def default_models_dir() -> Path:
    return Path(os.environ.get("LOGOMESH_MODELS_DIR") or user_cache_dir(APP_NAME)) / "models"


def default_sessions_dir() -> Path:
    return Path(os.environ.get("LOGOMESH_SESSIONS_DIR") or "sessions")


def default_config_file() -> Path:
    """The config file: ``--config``, else LOGOMESH_CONFIG, else the user config folder's."""
    return config_file_origin()[0]


def config_file_origin() -> tuple[Path, str]:
    """The config file path and where it was named: command line, environment or default."""
    if _COMMAND_LINE_CONFIG.get():
        return Path(_COMMAND_LINE_CONFIG.get() or ""), "command line"
    if os.environ.get("LOGOMESH_CONFIG"):
        return Path(os.environ["LOGOMESH_CONFIG"]), "environment (LOGOMESH_CONFIG)"
    return Path(user_config_dir(APP_NAME)) / "config.toml", "default"


def check_command_line_config() -> None:
    """Raise ConfigError when ``--config`` names a file that does not exist (a missing file
    named by LOGOMESH_CONFIG or the default location only means: no config file)."""
    path, origin = config_file_origin()
    if origin == "command line" and not path.exists():
        raise ConfigError(f"config file {path} (--config) does not exist; give the path of "
                          "an existing TOML file, or leave --config out")


def state_dir() -> Path:
    """Where the dashboard remembers things between runs (the theme): LOGOMESH_STATE_DIR or
    the user state folder."""
    return Path(os.environ.get("LOGOMESH_STATE_DIR") or user_state_dir(APP_NAME))


# Values given on the command line (global options such as --sessions-dir); they outrank the
# environment and the config file. A ContextVar so in-process test runs of main() stay apart.
_COMMAND_LINE: ContextVar[dict[str, Any] | None] = ContextVar("logomesh_command_line", default=None)
_COMMAND_LINE_CONFIG: ContextVar[str | None] = ContextVar("logomesh_command_line_config",
                                                          default=None)
# The TOML file the settings source reads while EngineConfig.load builds a config; None: none.
_TOML_FILE: ContextVar[Path | None] = ContextVar("logomesh_toml_file", default=None)


def set_command_line(values: dict[str, Any], config_file: str | None = None) -> None:
    """Record the global command-line options (None values are left out) for every later
    ``EngineConfig.load`` in this context; ``set_command_line({})`` forgets them."""
    _COMMAND_LINE.set({k: v for k, v in values.items() if v is not None})
    _COMMAND_LINE_CONFIG.set(config_file)


def command_line_values() -> dict[str, Any]:
    return dict(_COMMAND_LINE.get() or {})


def default_memory_budget() -> int:
    """Three quarters of the memory available now, so the OS and the dashboard keep room."""
    return int(psutil.virtual_memory().available * 0.75)


# The default pool: the four offline models, the strongest as the analyzer (it also synthesizes).
DEFAULT_ROLES: dict[str, str] = {
    "primary-analyzer": "qwen2.5-coder-1.5b",
    "architecture-critic": "qwen2.5-coder-0.5b",
    "optimization-specialist": "gemma-3-270m",
    "documentation-writer": "smollm2-135m",
}


class RemoteEndpoint(BaseModel):
    """An OpenAI-compatible server (llama-server, vLLM, Ollama). The key is read from the
    environment variable named by ``api_key_env`` at request time and is never stored."""

    name: str
    base_url: str
    model: str = Field(description="model name the server expects in requests")
    api_key_env: str | None = None
    n_ctx: int = 4096
    timeout_s: float = 120.0
    max_retries: int = 3


KVCacheType = Literal["f32", "f16", "bf16", "q8_0", "q5_1", "q5_0", "q4_1", "q4_0", "iq4_nl"]


class RoleOptions(BaseModel):
    """Per-role overrides of the engine's model settings (``[role_options.NAME]`` in the config)."""

    model_config = ConfigDict(extra="forbid")

    n_gpu_layers: int | None = Field(default=None, ge=-1)
    flash_attn: bool | None = None
    type_k: KVCacheType | None = None
    type_v: KVCacheType | None = None
    ttl_s: float | None = Field(default=None, gt=0)


class EngineConfig(BaseSettings):
    """Settings of the model pool. Env vars: LOGOMESH_<FIELD>, e.g. LOGOMESH_MEMORY_BUDGET."""

    model_config = SettingsConfigDict(env_prefix="LOGOMESH_", extra="forbid")

    models_dir: Path = Field(default_factory=default_models_dir)
    sessions_dir: Path = Field(default_factory=default_sessions_dir)
    memory_budget: int = Field(default_factory=default_memory_budget, gt=0,
                               description="bytes all local workers together may use")
    n_ctx: int = Field(default=4096, ge=256, description="context window per local model")
    n_threads: int = Field(default_factory=lambda: max(1, os.cpu_count() or 1), ge=1)
    max_concurrent_turns: int | None = Field(default=None, ge=1,
                                             description="None: derived from cores and threads")
    turn_timeout_s: float = Field(default=300.0, gt=0)
    load_timeout_s: float = Field(default=120.0, gt=0)
    auto_restart_failed: bool = False
    worker_nice: int = Field(default=5, ge=0, le=19,
                             description="scheduling niceness of model workers, so the UI stays responsive")
    remotes: list[RemoteEndpoint] = Field(default_factory=list)
    keymap: dict[str, str] = Field(default_factory=dict,
                                   description="binding id -> key, for the dashboard")
    roles: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_ROLES),
        description="role -> model the dashboard offers to load on start ([roles]; absent: "
                    "the default pool)")
    metrics_port: int | None = Field(default=None, ge=1, le=65535,
                                     description="serve Prometheus metrics on this port")
    # -- model placement and lifetime (GPU offload, KV cache, shared workers, idle unload) --
    n_gpu_layers: int | None = Field(
        default=None, ge=-1,
        description="layers offloaded to the GPU; -1 all; None: all when the llama.cpp build "
                    "offers GPU offload, none otherwise")
    flash_attn: bool = Field(default=False, description="llama.cpp flash attention")
    type_k: KVCacheType | None = Field(default=None, description="KV cache K type; None: f16")
    type_v: KVCacheType | None = Field(
        default=None, description="KV cache V type; None: f16 (quantized V needs flash_attn)")
    device_memory_budget: int | None = Field(
        default=None, gt=0, description="bytes of GPU memory all workers may use; None: unchecked")
    ttl_s: float | None = Field(
        default=None, gt=0,
        description="unload a role's model after this many idle seconds (Ollama's keep_alive); "
                    "it reloads on its next turn; None: never")
    share_workers: bool = Field(
        default=True, description="roles using the same model share one worker process")
    prompt_lookup: bool = Field(
        default=False, description="prompt-lookup speculative decoding (pays when replies "
                                   "quote the prompt, e.g. code)")
    role_options: dict[str, RoleOptions] = Field(
        default_factory=dict, description="per-role overrides: role name -> options")

    def for_role(self, role: str) -> EngineConfig:
        """This config with ``role``'s overrides applied."""
        opts = self.role_options.get(role)
        if opts is None:
            return self
        update = {k: v for k, v in opts.model_dump().items() if v is not None}
        return self.model_copy(update=update) if update else self

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Command line (init arguments) > environment > TOML file > defaults. The file is read
        only inside ``load``; a bare ``EngineConfig()`` uses the environment and defaults."""
        toml = _TOML_FILE.get()
        if toml is None:
            return (init_settings, env_settings)
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=toml))

    @classmethod
    def load(cls, path: Path | None = None, **overrides: Any) -> EngineConfig:
        """The effective configuration: ``overrides`` (None values skipped) and the recorded
        command-line options, then LOGOMESH_* variables, then the TOML file, then defaults."""
        return cls.load_with_origins(path, **overrides)[0]

    @classmethod
    def load_with_origins(cls, path: Path | None = None,
                          **overrides: Any) -> tuple[EngineConfig, dict[str, str]]:
        """``load``, plus where each field's value came from: ``command line``,
        ``environment (LOGOMESH_X)``, ``config file``, or ``default``."""
        import tomllib

        from pydantic import ValidationError

        if path is None:
            path = default_config_file()
            check_command_line_config()
        if path.exists():
            try:
                with path.open("rb") as f:
                    file_values = tomllib.load(f)
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"config file {path}: not valid TOML: {exc}") from None
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(f"config file {path}: cannot read it: {exc}") from None
        else:
            file_values = {}
        init = command_line_values()
        init.update({k: v for k, v in overrides.items() if v is not None})
        token = _TOML_FILE.set(path if path.exists() else None)
        try:
            config = cls(**init)
            env_values = EnvSettingsSource(cls)()
        except ValidationError as exc:
            raise ConfigError(_describe_config_error(exc, path)) from None
        finally:
            _TOML_FILE.reset(token)
        origins: dict[str, str] = {}
        for name in cls.model_fields:
            if name in init:
                origins[name] = "command line"
            elif name in env_values:
                origins[name] = f"environment ({cls.model_config.get('env_prefix', '')}{name.upper()})"
            elif name in file_values:
                origins[name] = f"config file ({path})"
            else:
                origins[name] = "default"
        return config, origins

    def concurrency_limit(self) -> int:
        if self.max_concurrent_turns:
            return self.max_concurrent_turns
        cores = os.cpu_count() or 1
        return max(1, cores // max(1, self.n_threads))


def _describe_config_error(exc, path: Path) -> str:
    """One line naming each bad field and where it can come from (file or env var)."""
    return (f"bad configuration ({path} or LOGOMESH_* environment variables): "
            f"{describe_validation_error(exc)}; fix or remove the setting")
