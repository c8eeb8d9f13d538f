"""The model catalog: names -> specs, where each file lives on disk, and memory estimates."""

from __future__ import annotations

from pathlib import Path

from ..config import EngineConfig, RemoteEndpoint
from ..errors import UnknownModelError
from .builtin import HUB_MODELS, OFFLINE_MODELS
from .gguf_meta import GGUFInfo, MemoryEstimate, read_gguf_info
from .specs import LocalSource, ModelSpec, RemoteSource


class Catalog:
    """Known models. A model id is a catalog name, a path to a ``.gguf`` file, or
    ``remote:<endpoint-name>`` for an OpenAI-compatible server from the config."""

    def __init__(self, models_dir: Path, specs: list[ModelSpec] | None = None,
                 remotes: list[RemoteEndpoint] | None = None) -> None:
        self.models_dir = Path(models_dir)
        self._specs = {s.name: s for s in (specs if specs is not None else OFFLINE_MODELS + HUB_MODELS)}
        self._remotes = {r.name: r for r in remotes or []}

    @classmethod
    def from_config(cls, config: EngineConfig) -> Catalog:
        return cls(config.models_dir, remotes=config.remotes)

    def names(self) -> list[str]:
        return list(self._specs) + [f"remote:{n}" for n in self._remotes]

    def specs(self) -> list[ModelSpec]:
        return list(self._specs.values())

    def offline_names(self) -> list[str]:
        return [s.name for s in self._specs.values() if s.offline]

    def remote(self, name: str) -> RemoteEndpoint:
        return self._remotes[name]

    def get(self, model_id: str) -> ModelSpec:
        if model_id in self._specs:
            return self._specs[model_id]
        if model_id.startswith("remote:"):
            name = model_id.split(":", 1)[1]
            ep = self._remotes.get(name)
            if ep is None:
                known = ", ".join(self._remotes) or "none configured"
                raise UnknownModelError(f"unknown remote endpoint {name!r}; configured: {known}")
            return ModelSpec(name=model_id, family="remote", params="?", quant="?",
                             context_length=ep.n_ctx, source=RemoteSource(endpoint=name))
        if model_id.endswith(".gguf"):
            path = Path(model_id).expanduser()
            return ModelSpec(name=model_id, family="local file", params="?", quant="?",
                             size_bytes=path.stat().st_size if path.exists() else None,
                             context_length=0, source=LocalSource(path=path))
        raise UnknownModelError(
            f"unknown model {model_id!r}; known: {', '.join(self.names())} (or a path to a .gguf file)")

    def path_for(self, spec: ModelSpec) -> Path:
        if isinstance(spec.source, LocalSource):
            return spec.source.path
        return self.models_dir / f"{spec.name}.gguf"

    def is_on_disk(self, spec: ModelSpec) -> bool:
        if isinstance(spec.source, RemoteSource):
            return True
        return self.path_for(spec).is_file()

    def on_disk_names(self) -> list[str]:
        return [s.name for s in self._specs.values() if self.is_on_disk(s)]

    def info(self, model_id: str) -> GGUFInfo:
        return read_gguf_info(self.path_for(self.get(model_id)))

    def estimate_bytes(self, model_id: str, n_ctx: int) -> int:
        """Memory a load will take, from GGUF metadata; 0 for remote models."""
        spec = self.get(model_id)
        if isinstance(spec.source, RemoteSource):
            return 0
        path = self.path_for(spec)
        if path.exists():
            return read_gguf_info(path).estimate_bytes(min(n_ctx, self.effective_ctx(model_id, n_ctx)))
        return int((spec.size_bytes or 0) * 1.2)

    def estimate(self, model_id: str, n_ctx: int, n_gpu_layers: int = 0, *,
                 type_k: str | None = None, type_v: str | None = None) -> MemoryEstimate:
        """RAM and device memory a load will take; nothing for remote models."""
        spec = self.get(model_id)
        if isinstance(spec.source, RemoteSource):
            return MemoryEstimate(ram=0)
        path = self.path_for(spec)
        if not path.exists():
            return MemoryEstimate(ram=int((spec.size_bytes or 0) * 1.2))
        return read_gguf_info(path).estimate_split(
            min(n_ctx, self.effective_ctx(model_id, n_ctx)), n_gpu_layers,
            type_k=type_k, type_v=type_v)

    def effective_ctx(self, model_id: str, n_ctx: int) -> int:
        spec = self.get(model_id)
        limit = spec.context_length
        if not limit and not isinstance(spec.source, RemoteSource):
            path = self.path_for(spec)
            limit = read_gguf_info(path).context_length if path.exists() else n_ctx
        return min(n_ctx, limit) if limit else n_ctx
