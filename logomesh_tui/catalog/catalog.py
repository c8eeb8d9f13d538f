"""The model catalog: names -> specs, where each file lives on disk, and memory estimates."""

from __future__ import annotations

import re
from pathlib import Path

from ..config import EngineConfig, RemoteEndpoint
from ..errors import UnknownModelError
from .builtin import HUB_MODELS, OFFLINE_MODELS
from .gguf_meta import GGUFInfo, MemoryEstimate, read_gguf_info
from .specs import HFSource, LocalSource, ModelSpec, RemoteSource

HF_PREFIX = "hf:"
_HF_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_QUANT = re.compile(r"(?i)(?:^|[-_.])((?:IQ|Q)\d[A-Z0-9_]*|F16|BF16|F32)(?=\.gguf$|[-_.])")


def parse_hf_id(model_id: str) -> HFSource:
    """``hf:OWNER/REPO/FILE.gguf`` (FILE may sit in folders of the repository) as a source;
    raises UnknownModelError naming what is wrong."""
    parts = model_id.removeprefix(HF_PREFIX).split("/")
    if len(parts) < 3 or not parts[-1].endswith(".gguf"):
        raise UnknownModelError(f"{model_id!r} is not hf:OWNER/REPO/FILE.gguf, e.g. "
                                "hf:Qwen/Qwen2.5-Coder-7B-Instruct-GGUF/"
                                "qwen2.5-coder-7b-instruct-q4_k_m.gguf")
    bad = [p for p in parts if not _HF_PART.match(p) or p in (".", "..")]
    if bad:
        raise UnknownModelError(f"{model_id!r}: {bad[0]!r} is not a valid repository or file "
                                "name part (letters, digits, '.', '_', '-')")
    return HFSource(repo_id="/".join(parts[:2]), filename="/".join(parts[2:]))


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

    def hf_names_on_disk(self) -> list[str]:
        """``hf:`` models pulled into this models folder."""
        root = self.models_dir / "hf"
        if not root.is_dir():
            return []
        return sorted(HF_PREFIX + p.relative_to(root).as_posix()
                      for p in root.rglob("*.gguf") if p.is_file())

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
        if model_id.startswith(HF_PREFIX):
            source = parse_hf_id(model_id)
            quant = _QUANT.search(source.filename.rsplit("/", 1)[-1])
            return ModelSpec(name=model_id, family="Hugging Face Hub", params="?",
                             quant=quant.group(1).upper() if quant else "?", context_length=0,
                             source=source)
        if model_id.endswith(".gguf"):
            path = Path(model_id).expanduser()
            return ModelSpec(name=model_id, family="local file", params="?", quant="?",
                             size_bytes=path.stat().st_size if path.exists() else None,
                             context_length=0, source=LocalSource(path=path))
        raise UnknownModelError(
            f"unknown model {model_id!r}; known: {', '.join(self.names())} (or a path to a .gguf file)")

    def path_for(self, spec: ModelSpec) -> Path:
        """Where the model file is (or will be after a pull). An ``hf:`` model lives under
        ``hf/OWNER/REPO/FILE`` in the models folder (a link into huggingface_hub's cache)."""
        if isinstance(spec.source, LocalSource):
            return spec.source.path
        if spec.name.startswith(HF_PREFIX) and isinstance(spec.source, HFSource):
            return self.models_dir / "hf" / spec.source.repo_id / spec.source.filename
        return self.models_dir / f"{spec.name}.gguf"

    def is_on_disk(self, spec: ModelSpec) -> bool:
        if isinstance(spec.source, RemoteSource):
            return True
        return self.path_for(spec).is_file()

    def on_disk_names(self) -> list[str]:
        return [s.name for s in self._specs.values() if self.is_on_disk(s)] + self.hf_names_on_disk()

    def header_info(self, model_id: str) -> tuple[GGUFInfo | None, str]:
        """GGUF facts for ``model_id`` and where they came from: ``file`` (the GGUF on disk),
        ``catalog`` (the catalog's copy of the header, before any download), or ``none``."""
        spec = self.get(model_id)
        if isinstance(spec.source, RemoteSource):
            return None, "none"
        path = self.path_for(spec)
        if path.is_file():
            return read_gguf_info(path), "file"
        h = spec.header
        if h is None or not spec.size_bytes:
            return None, "none"
        return GGUFInfo(path=path, arch=h.arch, name=spec.name, n_layer=h.n_layer,
                        n_embd=h.n_embd, n_head=h.n_head, n_head_kv=h.n_head_kv,
                        context_length=spec.context_length, n_vocab=h.n_vocab,
                        has_chat_template=spec.chat_format is None, file_size=spec.size_bytes,
                        repacked_bytes=h.repacked_bytes), "catalog"

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
