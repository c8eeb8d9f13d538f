"""Configuration: pydantic-settings with the LOGOMESH_ env prefix and an optional TOML file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import psutil
from platformdirs import user_cache_dir, user_config_dir
from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from .errors import ConfigError, describe_validation_error

APP_NAME = "logomesh-tui"


def default_models_dir() -> Path:
    return Path(os.environ.get("LOGOMESH_MODELS_DIR") or user_cache_dir(APP_NAME)) / "models"


def default_sessions_dir() -> Path:
    return Path(os.environ.get("LOGOMESH_SESSIONS_DIR") or "sessions")


def default_config_file() -> Path:
    return Path(os.environ.get("LOGOMESH_CONFIG") or Path(user_config_dir(APP_NAME)) / "config.toml")


def default_memory_budget() -> int:
    """Three quarters of the memory available now, so the OS and the dashboard keep room."""
    return int(psutil.virtual_memory().available * 0.75)


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
    def load(cls, path: Path | None = None, **overrides) -> EngineConfig:
        """Read the TOML config file if it exists, then apply env vars and overrides."""
        import tomllib

        from pydantic import ValidationError


        path = path or default_config_file()
        data: dict = {}
        if path.exists():
            try:
                with path.open("rb") as f:
                    data = tomllib.load(f)
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"config file {path}: not valid TOML: {exc}") from None
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(f"config file {path}: cannot read it: {exc}") from None
        data.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls(**data)
        except ValidationError as exc:
            raise ConfigError(_describe_config_error(exc, path)) from None

    def concurrency_limit(self) -> int:
        if self.max_concurrent_turns:
            return self.max_concurrent_turns
        cores = os.cpu_count() or 1
        return max(1, cores // max(1, self.n_threads))


def _describe_config_error(exc, path: Path) -> str:
    """One line naming each bad field and where it can come from (file or env var)."""
    return (f"bad configuration ({path} or LOGOMESH_* environment variables): "
            f"{describe_validation_error(exc)}; fix or remove the setting")
