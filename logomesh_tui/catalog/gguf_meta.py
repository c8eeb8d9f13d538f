"""Read what we need from a GGUF header (architecture, layers, heads, context) and estimate the
memory a loaded model takes: weights plus the KV cache for the chosen n_ctx plus a compute buffer."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelFileError

GGUF_MAGIC = b"GGUF"
# Measured: a worker process (interpreter, numpy, llama.cpp, sampler state) is ~100 MB RSS
# before its weights and KV cache.
WORKER_BASE_BYTES = 100 * 1000 * 1000
# llama.cpp's CPU backend repacks these weight types into an interleaved copy at load time
# (the mmapped original stays resident too), so they count twice. Measured on the default pool:
# qwen2.5-coder-1.5b RSS 1,956 MB = 1,117 file + 625 repacked Q4_K + 58 KV + ~150 rest.
REPACKED_TYPES = {"Q4_0", "Q4_K", "IQ4_NL"}
# Architectures the bundled llama.cpp loads; anything else is refused before spawning a worker.
KNOWN_ARCHS = {
    "llama", "qwen2", "qwen3", "qwen2moe", "gemma", "gemma2", "gemma3", "phi2", "phi3", "starcoder2",
    "mistral", "mistral3", "deepseek", "deepseek2", "falcon", "gpt2", "gptneox", "stablelm", "mpt", "bloom",
    "command-r", "cohere2", "olmo", "olmo2", "granite", "granitemoe", "exaone", "internlm2", "minicpm",
    "chatglm", "glm4", "nemotron", "llama4", "smollm3", "ernie4_5", "bert", "nomic-bert", "t5", "mamba",
    "rwkv6", "rwkv7", "jamba", "arcee", "hunyuan-moe", "dots1", "openai-moe", "gpt-oss", "lfm2", "seed_oss",
}


@dataclass(frozen=True)
class GGUFInfo:
    path: Path
    arch: str
    name: str
    n_layer: int
    n_embd: int
    n_head: int
    n_head_kv: int
    context_length: int
    n_vocab: int
    has_chat_template: bool
    file_size: int
    repacked_bytes: int = 0

    def kv_cache_bytes(self, n_ctx: int) -> int:
        head_dim = self.n_embd // max(1, self.n_head)
        # K and V, f16 (2 bytes), per layer, per KV head.
        return 2 * self.n_layer * n_ctx * self.n_head_kv * head_dim * 2

    def estimate_bytes(self, n_ctx: int, n_batch: int = 512) -> int:
        """Resident bytes once loaded: mmapped weights touched by inference, KV cache, the logits
        and compute buffers, plus the worker's own interpreter."""
        compute = self.n_vocab * 4 * 2 + n_batch * self.n_embd * 4 * 8
        return (self.file_size + self.repacked_bytes + self.kv_cache_bytes(n_ctx) + compute
                + WORKER_BASE_BYTES)


def _field(reader, key: str, default=None):
    f = reader.fields.get(key)
    if f is None:
        return default
    if f.types and f.types[0].name == "STRING":
        return bytes(f.parts[f.data[0]]).decode("utf-8", "replace")
    if f.types and f.types[0].name == "ARRAY":
        return len(f.data)
    return f.parts[f.data[0]][0].item()


def read_gguf_info(path: Path) -> GGUFInfo:
    """Validate a GGUF file's header and metadata. Raises ModelFileError with a clear reason.

    Parsing a header with a large vocabulary takes seconds, so results are cached per file
    (path, size and modification time: a replaced file is read again)."""
    path = Path(path)
    try:
        st = path.stat()
    except OSError:
        st = None
    if st is not None and path.is_file():
        return _read_gguf_info_cached(str(path), st.st_size, st.st_mtime_ns)
    return _read_gguf_info(path)


@functools.lru_cache(maxsize=64)
def _read_gguf_info_cached(path: str, size: int, mtime_ns: int) -> GGUFInfo:
    return _read_gguf_info(Path(path))


def _read_gguf_info(path: Path) -> GGUFInfo:
    if not path.exists():
        raise ModelFileError(f"model file not found: {path} — pull it with `logomesh-tui models pull NAME`")
    if not path.is_file():
        raise ModelFileError(f"not a file: {path}")
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic != GGUF_MAGIC:
        raise ModelFileError(f"not a GGUF file (bad magic {magic!r}): {path}")
    from gguf import GGUFReader

    try:
        reader = GGUFReader(str(path), "r")
    except Exception as exc:  # gguf raises ValueError / struct errors on damaged headers
        raise ModelFileError(f"damaged or truncated GGUF ({type(exc).__name__}: {exc}): {path} — "
                             "delete it and pull again") from exc
    arch = _field(reader, "general.architecture", "")
    if not arch:
        raise ModelFileError(f"GGUF has no general.architecture: {path}")
    if arch not in KNOWN_ARCHS:
        raise ModelFileError(f"unknown model architecture {arch!r} in {path}; "
                             f"llama.cpp here loads e.g. llama, qwen2, gemma3, phi3")
    # Truncation: the tensor data must extend to the end of the last tensor.
    size = path.stat().st_size
    if reader.tensors:
        last = max(reader.tensors, key=lambda t: t.data_offset)
        if last.data_offset + last.n_bytes > size:
            raise ModelFileError(f"truncated GGUF: {size} bytes but tensors need "
                                 f"{last.data_offset + last.n_bytes}: {path} — delete it and pull again")
    n_head = int(_field(reader, f"{arch}.attention.head_count", 1) or 1)
    vocab = _field(reader, "tokenizer.ggml.tokens", 32000)
    return GGUFInfo(
        path=path, arch=arch, name=_field(reader, "general.name", path.stem),
        n_layer=int(_field(reader, f"{arch}.block_count", 0)),
        n_embd=int(_field(reader, f"{arch}.embedding_length", 0)),
        n_head=n_head,
        n_head_kv=int(_field(reader, f"{arch}.attention.head_count_kv", n_head) or n_head),
        context_length=int(_field(reader, f"{arch}.context_length", 2048)),
        n_vocab=int(vocab), has_chat_template="tokenizer.chat_template" in reader.fields,
        file_size=size,
        repacked_bytes=sum(int(t.n_bytes) for t in reader.tensors
                           if t.tensor_type.name in REPACKED_TYPES and len(t.shape) == 2
                           and "token_embd" not in t.name))
