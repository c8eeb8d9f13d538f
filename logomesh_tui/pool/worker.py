"""A model worker: one process per loaded model, speaking JSON lines over stdin/stdout.

Run as ``python -m logomesh_tui.pool.worker`` by :class:`LocalBackend`. Requests (stdin):
``{"op": "generate", "id", "request": GenerationRequest}``, ``{"op": "cancel", "id"}``,
``{"op": "tokenize", "id", "text"}``, ``{"op": "shutdown"}``. Replies (stdout):
``{"ev": "ready", ...}``, ``{"ev": "token", "id", "text"}``, ``{"ev": "done", "id", "result"}``,
``{"ev": "count", "id", "n"}``, ``{"ev": "error", "id", "message"}``.

The worker dies with its parent (PR_SET_PDEATHSIG, and stdin EOF), so a dashboard killed with
SIGKILL leaves no model process behind. Everything that touches llama.cpp stays in this process:
a crash or abort there takes down only this worker.
"""

from __future__ import annotations

import ctypes
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

        llm = Llama(model_path=cfg["path"], n_ctx=cfg["n_ctx"], n_threads=cfg["n_threads"],
                    n_threads_batch=cfg["n_threads"], n_batch=cfg.get("n_batch", 512),
                    chat_format=cfg.get("chat_format"), verbose=False, seed=cfg.get("seed", 0xC0FFEE))
    except Exception as exc:
        proto.send(ev="load_failed", message=f"{type(exc).__name__}: {exc}")
        return
    proto.send(ev="ready", load_s=time.perf_counter() - t0, n_ctx=llm.n_ctx(), pid=os.getpid())

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
                _generate(llm, llama_cpp, LogitsProcessorList, msg, rid, proto, cancelled)
            else:
                proto.send(ev="error", id=rid, message=f"unknown op {op!r}")
        except Exception as exc:  # a bad request must not kill the worker
            proto.send(ev="error", id=rid, message=f"{type(exc).__name__}: {exc}")
    llm.close()


def _generate(llm, llama_cpp, LogitsProcessorList, msg, rid, proto, cancelled) -> None:
    req = msg["request"]
    probs = TokenProbabilities()
    kwargs = dict(messages=req["messages"], max_tokens=req["max_tokens"],
                  temperature=req["temperature"], top_p=req["top_p"], stream=True,
                  stop=req.get("stop") or None, seed=req.get("seed"),
                  logits_processor=LogitsProcessorList([probs]) if msg.get("token_probs", True) else None)
    if req.get("json_schema") is not None:
        kwargs["response_format"] = {"type": "json_object", "schema": req["json_schema"]}
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
    })


if __name__ == "__main__":
    main()
