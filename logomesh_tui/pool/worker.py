"""A model worker: one process per loaded model, speaking JSON lines over stdin/stdout.

Run as ``python -m logomesh_tui.pool.worker`` by :class:`LocalWorker`. Requests (stdin):
``{"op": "generate", "id", "session", "request": GenerationRequest}``, ``{"op": "cancel", "id"}``,
``{"op": "tokenize", "id", "text"}``, ``{"op": "forget", "id", "session"}``,
``{"op": "shutdown"}``. Replies (stdout): ``{"ev": "ready", ...}``, ``{"ev": "token", "id",
"text"}``, ``{"ev": "done", "id", "result", "states"}``, ``{"ev": "count", "id", "n"}``,
``{"ev": "error", "id", "message"}``.

One worker serves every role that uses its model (a *session* per role). The roles' KV states
live side by side in llama.cpp's one (unified) KV cache as separate sequences;
:class:`SessionStates` moves the right one into place before a prompt is evaluated, so a role
resumes its own transcript, and a role's first prompt reuses the task and files that another
role's prompt already evaluated.

The worker dies with its parent (PR_SET_PDEATHSIG, and stdin EOF), so a dashboard killed with
SIGKILL leaves no model process behind. Everything that touches llama.cpp stays in this process:
a crash or abort there takes down only this worker.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import json
import os
import queue
import signal
import sys
import threading
import time
from typing import Any

import numpy as np


def _die_with_parent() -> None:
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass
    if os.getppid() == 1:  # parent already gone before prctl took effect
        os._exit(0)


class _Protocol:
    """Owns the real stdout; fd 1 is pointed at stderr so stray C prints cannot corrupt it."""

    def __init__(self) -> None:
        self._out = os.fdopen(os.dup(1), "w", buffering=1)
        os.dup2(2, 1)
        self._lock = threading.Lock()

    def send(self, **msg) -> None:
        line = json.dumps(msg, separators=(",", ":"))
        with self._lock:
            self._out.write(line + "\n")
            self._out.flush()


class TokenProbabilities:
    """A logits processor that records, for every sampled token, its probability under the
    model's raw (pre-grammar, pre-temperature) distribution. The geometric mean of these is the
    token-level confidence of a reply."""

    def __init__(self) -> None:
        self._prev: np.ndarray | None = None
        self.logprobs: list[float] = []

    def __call__(self, input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
        if self._prev is not None and len(input_ids):
            tok = int(input_ids[-1])
            if 0 <= tok < len(self._prev):
                self.logprobs.append(float(self._prev[tok]))
        m = float(scores.max())
        self._prev = scores - (m + np.log(np.exp(scores - m).sum()))
        return scores

    def mean_prob(self) -> float | None:
        if not self.logprobs:
            return None
        return float(np.exp(np.mean(self.logprobs)))


def common_prefix(a: np.ndarray, b: np.ndarray) -> int:
    """Length of the longest common prefix of two token arrays."""
    n = min(len(a), len(b))
    if n == 0:
        return 0
    diff = np.flatnonzero(a[:n] != b[:n])
    return int(diff[0]) if len(diff) else n


def trie_size(sequences: list[np.ndarray]) -> int:
    """Distinct (prefix, token) positions in ``sequences``: the KV cells they need when sessions
    that share a prefix share its cells (sum of lengths less each sorted neighbour's prefix)."""
    ordered = sorted(tuple(int(t) for t in seq) for seq in sequences if len(seq))
    total = sum(len(seq) for seq in ordered)
    for a, b in zip(ordered, ordered[1:], strict=False):
        total -= common_prefix(np.asarray(a), np.asarray(b))
    return total


class SessionStates:
    """Each session's tokens parked in the worker's one KV cache (see the module docstring).

    The context has a unified KV cache with ``slots`` sequences. llama-cpp-python decodes in
    sequence 0, the live one. Parking a session tags its cells with a sequence of its own
    (``llama_memory_seq_cp``): llama.cpp's unified cache shares cells between sequences rather
    than copying them, so sessions that share a prefix (the task, the files) hold it once and
    switching sessions copies no data. Before a prompt is evaluated, the parked session (or the
    live cache) sharing the longest prefix with it is moved into sequence 0. When the cache or
    the sequence slots would run out, the least recently used parked sessions are dropped (they
    re-evaluate on their next turn).
    """

    def __init__(self, llm, llama_cpp, slots: int) -> None:
        self.llm = llm
        self.lib = llama_cpp
        self.mem = llama_cpp.llama_get_memory(llm.ctx)
        self.parked: dict[str, tuple[int, np.ndarray]] = {}
        self.free = list(range(1, slots))
        self.used_at: dict[str, int] = {}
        self.clock = 0
        self.owner: str | None = None
        self.dirty = False
        self.active = ""
        self.reserve = 0
        self.restored_tokens = 0
        self.bytes_per_token = 0.0

    def _live(self) -> np.ndarray:
        return np.asarray(self.llm.input_ids[: self.llm.n_tokens]).copy()

    def _drop(self, session: str) -> None:
        seq, _tokens = self.parked.pop(session)
        self.lib.llama_memory_seq_rm(self.mem, seq, -1, -1)
        self.free.append(seq)

    def _lru(self, keep: str | None) -> str | None:
        candidates = [s for s in self.parked if s != keep]
        return min(candidates, key=lambda s: self.used_at.get(s, 0)) if candidates else None

    def _park(self, session: str) -> None:
        if session in self.parked:
            self._drop(session)
        if not self.free:
            victim = self._lru(keep=None)
            if victim is None:
                return
            self._drop(victim)
        seq = self.free.pop()
        self.lib.llama_memory_seq_cp(self.mem, 0, seq, -1, -1)
        self.parked[session] = (seq, self._live())

    def _restore(self, session: str) -> None:
        seq, tokens = self.parked[session]
        llm = self.llm
        self.lib.llama_memory_seq_rm(self.mem, 0, -1, -1)
        self.lib.llama_memory_seq_cp(self.mem, seq, 0, -1, -1)
        llm.input_ids[: len(tokens)] = tokens
        llm.n_tokens = len(tokens)
        llm._requires_eval = True  # no logits for the restored cache: replay one token
        self._drop(session)  # the live sequence holds it now

    def _fit(self, prompt: np.ndarray, keep: str | None) -> None:
        """Drop parked sessions until the cache can hold them, the prompt and the reply."""
        limit = self.llm.n_ctx() - self.reserve
        while self.parked:
            seqs = [tokens for _seq, tokens in self.parked.values()] + [prompt]
            if trie_size(seqs) <= limit:
                return
            victim = self._lru(keep)
            if victim is None:
                return
            self._drop(victim)

    def prepare(self, tokens) -> None:
        """Called with the prompt's tokens just before llama.cpp evaluates them."""
        prompt = np.asarray(tokens, dtype=np.intc)
        session = self.active
        self.clock += 1
        self.used_at[session] = self.clock
        if self.owner is not None and self.owner != session and self.dirty:
            self._park(self.owner)
            self.dirty = False
        best, best_len = None, common_prefix(self._live(), prompt)
        for name, (_seq, parked) in self.parked.items():
            n = common_prefix(parked, prompt)
            if n > best_len:
                best, best_len = name, n
        self._fit(prompt, keep=best)
        self.restored_tokens = 0
        if best is not None and best in self.parked:
            self._restore(best)
            self.restored_tokens = best_len
        self.owner = session
        self.dirty = True

    def forget(self, session: str) -> None:
        if session in self.parked:
            self._drop(session)
        self.used_at.pop(session, None)
        if self.owner == session:
            self.owner = None
            self.dirty = False

    def sizes(self) -> dict[str, int]:
        """Bytes of KV cache each parked session holds on its own (beyond what it shares)."""
        if not self.bytes_per_token and self.llm.n_tokens:
            size = self.lib.llama_state_seq_get_size(self.llm.ctx, 0)
            self.bytes_per_token = size / self.llm.n_tokens
        others = [self._live()]
        out = {}
        for name, (_seq, tokens) in self.parked.items():
            shared = max((common_prefix(tokens, o) for o in others), default=0)
            out[name] = int((len(tokens) - shared) * self.bytes_per_token)
            others.append(tokens)
        return out


def compact_json_gbnf(schema: dict) -> str:
    """llama.cpp's grammar for ``schema`` with no optional whitespace between tokens.

    llama-cpp-python's converter lets a space follow every brace, colon and comma. Small models
    take it (``{ "message_type" : "analysis" , ...``), and each such space can be a token of
    their reply budget: in a 48-token turn the JSON around the content ran past max_tokens and
    the reply was cut off. Compact JSON also makes the budget for the content exact.
    """
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    gbnf = json_schema_to_gbnf(json.dumps(schema))
    rules = [line for line in gbnf.splitlines() if not line.startswith("space ::=")]
    return "\n".join(rules + ['space ::= ""'])


@functools.lru_cache(maxsize=32)
def _grammar_for(schema_json: str):
    from llama_cpp import LlamaGrammar

    return LlamaGrammar.from_string(compact_json_gbnf(json.loads(schema_json)), verbose=False)


def compact_json_grammar(schema: dict):
    """A LlamaGrammar for ``schema`` (cached: a conversation sends the same few schemas).
    Keys keep their order: the grammar asks for the properties in the schema's order."""
    return _grammar_for(json.dumps(schema))


def _llama_class(Llama, states_holder: list):
    """Llama whose prompt evaluation starts from the best session snapshot."""

    class SessionLlama(Llama):
        def generate(self, tokens, *args, **kwargs):
            states_holder[0].prepare(tokens)
            return super().generate(tokens, *args, **kwargs)

    return SessionLlama


#: Sequences in a worker's KV cache: the live one and up to seven parked sessions (roles).
SESSION_SLOTS = 8


@contextlib.contextmanager
def _sequences(slots: int):
    """Create llama.cpp contexts with ``slots`` sequences in one unified KV cache.

    llama-cpp-python's Llama() does not expose ``n_seq_max`` / ``kv_unified``; it reads the
    defaults from ``llama_context_default_params()`` and overrides other fields, so the defaults
    are adjusted while the model is constructed.
    """
    import llama_cpp.llama_cpp as lib

    original = lib.llama_context_default_params

    def params():
        p = original()
        p.n_seq_max = slots
        p.kv_unified = True
        return p

    lib.llama_context_default_params = params
    try:
        yield
    finally:
        lib.llama_context_default_params = original


def _llama_kwargs(cfg: dict, llama_cpp) -> dict:
    """Llama() arguments from the worker config: GPU offload, flash attention, KV cache types."""
    n_gpu = cfg.get("n_gpu_layers")
    if n_gpu is None:
        n_gpu = -1 if llama_cpp.llama_supports_gpu_offload() else 0
    kwargs: dict[str, Any] = {"n_gpu_layers": int(n_gpu),
                              "flash_attn": bool(cfg.get("flash_attn", False))}
    for key in ("type_k", "type_v"):
        name = cfg.get(key)
        if name:
            kwargs[key] = int(getattr(llama_cpp, f"GGML_TYPE_{name.upper()}"))
    if cfg.get("prompt_lookup"):
        from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

        kwargs["draft_model"] = LlamaPromptLookupDecoding(
            num_pred_tokens=int(cfg.get("prompt_lookup_tokens", 10)))
        kwargs["logits_all"] = True  # the draft's tokens are checked against every position
    return kwargs


def main() -> None:
    _die_with_parent()
    proto = _Protocol()
    cfg = json.loads(sys.argv[1])
    if cfg.get("nice"):
        # Below the dashboard's priority: on a small machine busy workers must not starve the UI.
        try:
            os.nice(int(cfg["nice"]))
        except OSError:
            pass
    cancelled: set[str] = set()
    jobs: queue.Queue = queue.Queue()

    def reader() -> None:
        for line in sys.stdin:
            try:
                msg = json.loads(line)
            except json.JSONDecodeError:
                continue
            if msg.get("op") == "cancel":
                cancelled.add(msg.get("id", ""))
            else:
                jobs.put(msg)
        os._exit(0)  # parent closed our stdin: it is gone or wants us gone

    threading.Thread(target=reader, daemon=True).start()

    t0 = time.perf_counter()
    try:
        import llama_cpp
        from llama_cpp import Llama, LogitsProcessorList

        holder: list[SessionStates] = []
        llama_kwargs = _llama_kwargs(cfg, llama_cpp)
        slots = int(cfg.get("session_slots", SESSION_SLOTS))
        with _sequences(slots):
            llm = _llama_class(Llama, holder)(
                model_path=cfg["path"], n_ctx=cfg["n_ctx"], n_threads=cfg["n_threads"],
                n_threads_batch=cfg["n_threads"], n_batch=cfg.get("n_batch", 512),
                chat_format=cfg.get("chat_format"), verbose=False,
                seed=cfg.get("seed", 0xC0FFEE), **llama_kwargs)
        states = SessionStates(llm, llama_cpp, slots)
        holder.append(states)
    except Exception as exc:
        proto.send(ev="load_failed", message=f"{type(exc).__name__}: {exc}")
        return
    # What llama.cpp was actually given, read back from its own parameter structs.
    applied = {"n_gpu_layers": int(llm.model_params.n_gpu_layers),
               "flash_attn": int(llm.context_params.flash_attn_type) == int(
                   llama_cpp.LLAMA_FLASH_ATTN_TYPE_ENABLED),
               "type_k": int(llm.context_params.type_k), "type_v": int(llm.context_params.type_v),
               "gpu_offload_supported": bool(llama_cpp.llama_supports_gpu_offload()),
               "prompt_lookup": llm.draft_model is not None}
    proto.send(ev="ready", load_s=time.perf_counter() - t0, n_ctx=llm.n_ctx(), pid=os.getpid(),
               applied=applied)

    while True:
        msg = jobs.get()
        op, rid = msg.get("op"), msg.get("id", "")
        if op == "shutdown":
            break
        try:
            if op == "tokenize":
                n = len(llm.tokenize(msg["text"].encode("utf-8"), add_bos=False, special=True))
                proto.send(ev="count", id=rid, n=n)
            elif op == "generate":
                states.active = str(msg.get("session", ""))
                states.reserve = int(msg.get("request", {}).get("max_tokens", 0))
                _generate(llm, llama_cpp, LogitsProcessorList, msg, rid, proto, cancelled, states)
            elif op == "forget":
                states.forget(str(msg.get("session", "")))
                proto.send(ev="count", id=rid, n=len(states.parked))
            else:
                proto.send(ev="error", id=rid, message=f"unknown op {op!r}")
        except Exception as exc:  # a bad request must not kill the worker
            proto.send(ev="error", id=rid, message=f"{type(exc).__name__}: {exc}")
    llm.close()


def _generate(llm, llama_cpp, LogitsProcessorList, msg, rid, proto, cancelled, states) -> None:
    req = msg["request"]
    probs = TokenProbabilities()
    kwargs = dict(messages=req["messages"], max_tokens=req["max_tokens"],
                  temperature=req["temperature"], top_p=req["top_p"], stream=True,
                  stop=req.get("stop") or None, seed=req.get("seed"),
                  logits_processor=LogitsProcessorList([probs]) if msg.get("token_probs", True) else None)
    if req.get("json_schema") is not None:
        kwargs["grammar"] = compact_json_grammar(req["json_schema"])
    llama_cpp.llama_perf_context_reset(llm.ctx)
    t0 = time.perf_counter()
    ttft = None
    parts: list[str] = []
    finish = "stop"
    n_chunks = 0
    stream = llm.create_chat_completion(**kwargs)
    for chunk in stream:
        if rid in cancelled:
            finish = "cancelled"
            stream.close()
            break
        choice = chunk["choices"][0]
        text = choice.get("delta", {}).get("content")
        if text:
            if ttft is None:
                ttft = time.perf_counter() - t0
            n_chunks += 1
            parts.append(text)
            proto.send(ev="token", id=rid, text=text)
        if choice.get("finish_reason"):
            finish = choice["finish_reason"]
    cancelled.discard(rid)
    total = time.perf_counter() - t0
    perf = llama_cpp.llama_perf_context(llm.ctx)
    n_eval = int(perf.n_eval)
    prompt_eval_s = perf.t_p_eval_ms / 1000.0
    gen_s = perf.t_eval_ms / 1000.0
    completion = max(n_eval, n_chunks)
    proto.send(ev="done", id=rid, result={
        "text": "".join(parts), "finish_reason": finish,
        "prompt_tokens": max(0, llm.n_tokens - n_eval),
        "completion_tokens": completion,
        "prompt_tokens_evaluated": int(perf.n_p_eval),
        "timings": {"prompt_eval_s": prompt_eval_s, "generation_s": gen_s or max(total - (ttft or 0), 1e-9),
                    "total_s": total, "time_to_first_token_s": ttft},
        "mean_token_prob": probs.mean_prob(),
    }, states=states.sizes(), restored_tokens=states.restored_tokens)


if __name__ == "__main__":
    main()
