"""Read what we need from a GGUF header (architecture, layers, heads, context) and estimate the
memory a loaded model takes: weights plus the KV cache for the chosen n_ctx plus a compute buffer."""

from __future__ import annotations

import functools
import mmap
import struct
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelFileError

GGUF_MAGIC = b"GGUF"
# A worker process (interpreter, numpy, llama.cpp, sampler state) is ~100 MB RSS before its
# weights and KV cache.
WORKER_BASE_BYTES = 100 * 1000 * 1000
# llama.cpp's CPU backend repacks these weight types into an interleaved copy at load time
# (the mmapped original stays resident too), so they count twice.
REPACKED_TYPES = {"Q4_0", "Q4_K", "IQ4_NL"}
# Architectures the bundled llama.cpp loads; anything else is refused before spawning a worker.
KNOWN_ARCHS = {
    "llama", "qwen2", "qwen3", "qwen2moe", "gemma", "gemma2", "gemma3", "phi2", "phi3", "starcoder2",
    "mistral", "mistral3", "deepseek", "deepseek2", "falcon", "gpt2", "gptneox", "stablelm", "mpt", "bloom",
    "command-r", "cohere2", "olmo", "olmo2", "granite", "granitemoe", "exaone", "internlm2", "minicpm",
    "chatglm", "glm4", "nemotron", "llama4", "smollm3", "ernie4_5", "bert", "nomic-bert", "t5", "mamba",
    "rwkv6", "rwkv7", "jamba", "arcee", "hunyuan-moe", "dots1", "openai-moe", "gpt-oss", "lfm2", "seed_oss",
}


#: Bytes per element of each KV cache type llama.cpp offers (block size / block bytes).
KV_TYPE_BYTES = {"f32": 4.0, "f16": 2.0, "bf16": 2.0, "q8_0": 34 / 32, "q5_1": 24 / 32,
                 "q5_0": 22 / 32, "q4_1": 20 / 32, "q4_0": 18 / 32, "iq4_nl": 18 / 32}


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes a loaded model takes in system RAM and in GPU (device) memory."""

    ram: int
    device: int = 0

    @property
    def total(self) -> int:
        return self.ram + self.device


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
    #: Bytes of the repeating layers' tensors (``blk.N.*``), what ``n_gpu_layers`` offloads.
    layer_bytes: int = 0
    #: Bytes of the output head, offloaded with all layers (``n_gpu_layers`` -1 or > n_layer).
    output_bytes: int = 0

    def kv_cache_bytes(self, n_ctx: int, type_k: str | None = None,
                       type_v: str | None = None) -> int:
        head_dim = self.n_embd // max(1, self.n_head)
        per_type = self.n_layer * n_ctx * self.n_head_kv * head_dim
        # K and V, per layer, per KV head; f16 unless a quantized cache type is chosen.
        return int(per_type * (KV_TYPE_BYTES[type_k or "f16"] + KV_TYPE_BYTES[type_v or "f16"]))

    def estimate_bytes(self, n_ctx: int, n_batch: int = 512) -> int:
        """Resident bytes once loaded on the CPU: mmapped weights touched by inference, KV cache,
        the logits and compute buffers, plus the worker's own interpreter."""
        return self.estimate_split(n_ctx, 0, n_batch=n_batch).ram

    def offloaded_layers(self, n_gpu_layers: int) -> int:
        return self.n_layer if n_gpu_layers < 0 else min(n_gpu_layers, self.n_layer)

    def estimate_split(self, n_ctx: int, n_gpu_layers: int, *, n_batch: int = 512,
                       type_k: str | None = None, type_v: str | None = None) -> MemoryEstimate:
        """RAM and device memory with ``n_gpu_layers`` offloaded (-1: all).

        Offloaded layers move their weights, their share of the KV cache and a compute buffer to
        the device; llama.cpp unmaps what it copied, so RAM keeps the rest of the file. The CPU
        repacks only the weights it runs itself.
        """
        compute = self.n_vocab * 4 * 2 + n_batch * self.n_embd * 4 * 8
        kv = self.kv_cache_bytes(n_ctx, type_k, type_v)
        g = self.offloaded_layers(n_gpu_layers)
        if g == 0:
            return MemoryEstimate(ram=self.file_size + self.repacked_bytes + kv + compute
                                  + WORKER_BASE_BYTES)
        share = g / max(1, self.n_layer)
        whole = n_gpu_layers < 0 or n_gpu_layers > self.n_layer
        weights = int(self.layer_bytes * share) + (self.output_bytes if whole else 0)
        device = weights + int(kv * share) + compute
        ram = (self.file_size - weights + int(self.repacked_bytes * (1 - share))
               + int(kv * (1 - share)) + self.n_vocab * 4 * 2 + WORKER_BASE_BYTES)
        return MemoryEstimate(ram=ram, device=device)


_SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?",
           10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9


class _Header:
    """A lean GGUF header parse: scalar and string values, array lengths (not their contents),
    and tensor infos. gguf.GGUFReader materialises every vocabulary string, which takes seconds
    for a 262k-token vocabulary; this reads the same header in milliseconds."""

    def __init__(self, buf) -> None:
        self.buf = buf
        self.pos = 0
        self.fields: dict[str, int | float | str] = {}  # an array is its length (_ArrayLen)
        self.tensors: list[tuple[str, tuple[int, ...], int, int]] = []  # name, shape, type, offset

    def _unpack(self, fmt: str):
        v = struct.unpack_from(fmt, self.buf, self.pos)[0]
        self.pos += struct.calcsize(fmt)
        return v

    def _string(self) -> str:
        n = self._unpack("<Q")
        if n > len(self.buf) - self.pos:
            raise ValueError("string runs past the end of the file")
        v = bytes(self.buf[self.pos:self.pos + n]).decode("utf-8", "replace")
        self.pos += n
        return v

    def _value(self, vtype: int):
        if vtype in _SCALAR:
            return self._unpack(_SCALAR[vtype])
        if vtype == _STRING:
            return self._string()
        if vtype == _ARRAY:
            etype, count = self._unpack("<I"), self._unpack("<Q")
            if etype in _SCALAR:
                self.pos += struct.calcsize(_SCALAR[etype]) * count
            elif etype == _STRING:
                for _ in range(count):
                    self.pos += 8 + struct.unpack_from("<Q", self.buf, self.pos)[0]
            else:
                for _ in range(count):
                    self._value(etype)
            if self.pos > len(self.buf):
                raise ValueError("array runs past the end of the file")
            return _ArrayLen(count)
        raise ValueError(f"unknown GGUF value type {vtype}")

    def parse(self) -> _Header:
        magic = bytes(self.buf[:4])
        self.pos = 4
        version = self._unpack("<I")
        if version < 2:
            raise ValueError(f"GGUF version {version} is too old")
        n_tensors, n_kv = self._unpack("<Q"), self._unpack("<Q")
        assert magic == GGUF_MAGIC
        for _ in range(n_kv):
            key = self._string()
            self.fields[key] = self._value(self._unpack("<I"))
        for _ in range(n_tensors):
            name = self._string()
            n_dims = self._unpack("<I")
            shape = tuple(self._unpack("<Q") for _ in range(n_dims))
            ttype, offset = self._unpack("<I"), self._unpack("<Q")
            self.tensors.append((name, shape, ttype, offset))
        align = int(self.fields.get("general.alignment", 32) or 32)
        self.data_start = -(-self.pos // align) * align
        return self


class _ArrayLen(int):
    """An array field: only its length is kept."""


def _tensor_bytes(shape: tuple[int, ...], ttype: int) -> tuple[str, int]:
    from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType

    try:
        qtype = GGMLQuantizationType(ttype)
    except ValueError:
        return f"type{ttype}", 0
    block, size = GGML_QUANT_SIZES[qtype]
    n = 1
    for d in shape:
        n *= d
    return qtype.name, n // block * size


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
    try:
        with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            header = _Header(buf).parse()
    except (ValueError, struct.error, OSError, OverflowError) as exc:
        raise ModelFileError(f"damaged or truncated GGUF ({type(exc).__name__}: {exc}): {path} — "
                             "delete it and pull again") from exc
    fields = header.fields
    arch = str(fields.get("general.architecture", "") or "")
    if not arch:
        raise ModelFileError(f"GGUF has no general.architecture: {path}")
    if arch not in KNOWN_ARCHS:
        raise ModelFileError(f"unknown model architecture {arch!r} in {path}; "
                             f"llama.cpp here loads e.g. llama, qwen2, gemma3, phi3")
    size = path.stat().st_size
    repacked = layer_bytes = output_bytes = 0
    data_end = header.data_start
    for name, shape, ttype, offset in header.tensors:
        tname, nbytes = _tensor_bytes(shape, ttype)
        if name.startswith("blk."):
            layer_bytes += nbytes
        elif name.startswith("output"):
            output_bytes += nbytes
        data_end = max(data_end, header.data_start + offset + nbytes)
        if tname in REPACKED_TYPES and len(shape) == 2 and "token_embd" not in name:
            repacked += nbytes
    # Truncation: the tensor data must extend to the end of the last tensor.
    if data_end > size:
        raise ModelFileError(f"truncated GGUF: {size} bytes but tensors need {data_end}: {path} — "
                             "delete it and pull again")

    def num(key: str, default: int) -> int:
        v = fields.get(key)
        return int(v) if isinstance(v, int | float) and v else default

    n_head = num(f"{arch}.attention.head_count", 1)
    return GGUFInfo(
        path=path, arch=arch, name=str(fields.get("general.name") or path.stem),
        n_layer=num(f"{arch}.block_count", 0), n_embd=num(f"{arch}.embedding_length", 0),
        n_head=n_head, n_head_kv=num(f"{arch}.attention.head_count_kv", n_head),
        context_length=num(f"{arch}.context_length", 2048),
        n_vocab=int(fields.get("tokenizer.ggml.tokens", 32000)),
        has_chat_template="tokenizer.chat_template" in fields,
        file_size=size, repacked_bytes=repacked, layer_bytes=layer_bytes,
        output_bytes=output_bytes)
