"""A model worker: one process per loaded model, speaking JSON lines over stdin/stdout.

Run as ``python -m logomesh_tui.pool.worker`` by :class:`LocalWorker`. Requests (stdin):
``{"op": "generate", "id", "session", "request": GenerationRequest}``, ``{"op": "cancel", "id"}``,
``{"op": "tokenize", "id", "text"}``, ``{"op": "forget", "id", "session"}``,
``{"op": "shutdown"}``. Replies (stdout): ``{"ev": "ready", ...}``, ``{"ev": "token", "id",
"text"}``, ``{"ev": "done", "id", "result", "states"}``, ``{"ev": "count", "id", "n"}``,
``{"ev": "error", "id", "message"}``.

One worker serves every role that uses its model (a *session* per role). llama.cpp has one KV
cache; :class:`SessionStates` keeps a snapshot of each session's KV (``llama_state_seq_*``) and,
before a prompt is evaluated, starts from whichever snapshot shares the longest prefix with it,
so a role resumes its own transcript, and a role's first prompt reuses the task and files that
another role's prompt already evaluated.

The worker dies with its parent (PR_SET_PDEATHSIG, and stdin EOF), so a dashboard killed with
SIGKILL leaves no model process behind. Everything that touches llama.cpp stays in this process:
a crash or abort there takes down only this worker.
"""

from __future__ import annotations

import ctypes
import functools
import json
import os
import queue
import signal
import sys
import threading
import time

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


class SessionStates:
    """KV snapshots per session in one llama.cpp context (see the module docstring).

    ``owner`` is the session whose tokens the live KV cache holds; its snapshot is taken only
    when another session is about to change the cache, and only if the cache changed since.
    """

    def __init__(self, llm, llama_cpp) -> None:
        self.llm = llm
        self.lib = llama_cpp
        self.saved: dict[str, tuple[np.ndarray, ctypes.Array]] = {}
        self.owner: str | None = None
        self.dirty = False
        self.active: str = ""
        self.restored_tokens = 0

    def _live(self) -> np.ndarray:
        return np.asarray(self.llm.input_ids[: self.llm.n_tokens]).copy()

    def _save(self, session: str) -> None:
        ctx = self.llm.ctx
        size = self.lib.llama_state_seq_get_size(ctx, 0)
        buf = (ctypes.c_uint8 * size)()
        written = self.lib.llama_state_seq_get_data(ctx, buf, size, 0)
        if written:
            self.saved[session] = (self._live(), buf)

    def _restore(self, session: str) -> bool:
        tokens, buf = self.saved[session]
        llm = self.llm
        llm._ctx.kv_cache_seq_rm(0, 0, -1)
        if not self.lib.llama_state_seq_set_data(llm.ctx, buf, len(buf), 0):
            llm.reset()
            return False
        llm.input_ids[: len(tokens)] = tokens
        llm.n_tokens = len(tokens)
        llm._requires_eval = True  # the restored cache has no logits: replay one token
        return True

    def prepare(self, tokens) -> None:
        """Called with the prompt's tokens just before llama.cpp evaluates them."""
        prompt = np.asarray(tokens, dtype=np.intc)
        session = self.active
        if self.owner is not None and self.owner != session and self.dirty:
            self._save(self.owner)
            self.dirty = False
        best, best_len = None, common_prefix(self._live(), prompt)
        for name, (saved_tokens, _buf) in self.saved.items():
            n = common_prefix(saved_tokens, prompt)
            if n > best_len:
                best, best_len = name, n
        self.restored_tokens = 0
        if best is not None and self._restore(best):
            self.restored_tokens = best_len
        self.owner = session
        self.dirty = True

    def forget(self, session: str) -> None:
        self.saved.pop(session, None)
        if self.owner == session:
            self.owner = None
            self.dirty = False

    def sizes(self) -> dict[str, int]:
        """Bytes of KV snapshot per session (the live cache is not counted: it is preallocated)."""
        return {name: len(buf) for name, (_t, buf) in self.saved.items()}


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


def _llama_kwargs(cfg: dict, llama_cpp) -> dict:
    """Llama() arguments from the worker config: GPU offload, flash attention, KV cache types."""
    n_gpu = cfg.get("n_gpu_layers")
    if n_gpu is None:
        n_gpu = -1 if llama_cpp.llama_supports_gpu_offload() else 0
    kwargs = {"n_gpu_layers": int(n_gpu), "flash_attn": bool(cfg.get("flash_attn", False))}
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
        llm = _llama_class(Llama, holder)(
            model_path=cfg["path"], n_ctx=cfg["n_ctx"], n_threads=cfg["n_threads"],
            n_threads_batch=cfg["n_threads"], n_batch=cfg.get("n_batch", 512),
            chat_format=cfg.get("chat_format"), verbose=False, seed=cfg.get("seed", 0xC0FFEE),
            **llama_kwargs)
        states = SessionStates(llm, llama_cpp)
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
                _generate(llm, llama_cpp, LogitsProcessorList, msg, rid, proto, cancelled, states)
            elif op == "forget":
                states.forget(str(msg.get("session", "")))
                proto.send(ev="count", id=rid, n=len(states.saved))
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
