"""Hot-swap mid-conversation: the new model gets the role and the history, fitted to it."""

import asyncio

from conv_helpers import schema_reply

from logomesh_tui.config import EngineConfig
from logomesh_tui.conversation import MultiModelSession, ResourceLimits
from logomesh_tui.pool.engine import HotSwapEngine
from logomesh_tui.pool.fake import FakeBackend


class Swappable:
    """An executor whose model can be replaced, like the engine's RoleExecutor."""

    def __init__(self, inner):
        self.inner = inner

    @property
    def model_id(self):
        return self.inner.model_id

    @property
    def n_ctx(self):
        return self.inner.n_ctx

    async def generate(self, request, on_token=None):
        return await self.inner.generate(request, on_token)

    async def count_tokens(self, text):
        return await self.inner.count_tokens(text)

    async def cancel(self):
        await self.inner.cancel()


async def test_swap_between_turns_gets_fitted_context_and_is_recorded(make_backend, roles):
    s = MultiModelSession(store=False, limits=ResourceLimits(max_tokens=64))
    writer = Swappable(make_backend("old-model", n_ctx=4096))
    new = make_backend("new-model", n_ctx=700)
    for i, role in enumerate(roles[:3]):
        await s.add_model(role, make_backend(f"m{i}", content="long point " * 20))
    await s.add_model(roles[3], writer)

    def on_event(e):
        if e.kind == "consensus" and e.round == 2:
            writer.inner = new

    s.add_listener(on_event)
    r = await s.execute_collaborative_prompt("Review the component. " + "Context. " * 40)
    swaps = [e for e in s.events if e.kind == "swap"]
    assert len(swaps) == 1
    assert swaps[0].payload() | {"seconds": None} == {
        "role": roles[3], "old_model_id": "old-model", "new_model_id": "new-model",
        "seconds": None, "source": "detected", "round": 4}
    first = next(q for q in new.requests if q.json_schema is not None)
    text = "\n".join(m["content"] for m in first.messages)
    assert first.messages[0]["role"] == "user"
    # Shared context first (the same tokens for every role), then the role's own instructions.
    assert first.messages[0]["content"].startswith("TASK:\nReview the component.")
    assert text.index("TASK:") < text.index(f"You are the {roles[3]}") < text.index("[m2]")
    # The history so far reached the new model: every role's latest proposal, by id.
    for short in ("m2", "m3", "m4", "m9"):
        assert f"[{short}]" in text
    assert sum(len(m["content"]) // 4 + 1 + 8 for m in first.messages) + 16 <= 700 - 64
    after = [m for m in r.messages if m.from_role == roles[3] and m.round == 4]
    assert after and after[0].model_id == "new-model"
    assert r.rounds_run == 4


async def test_engine_swap_is_recorded_with_its_timing(make_backend, roles, tmp_path):
    def factory(model_id, config):
        return FakeBackend(model_id, n_ctx=2048,
                           responder=lambda q, b: schema_reply(q, b, confidence=0.7))

    config = EngineConfig(sessions_dir=tmp_path / "s", n_ctx=2048)
    async with HotSwapEngine(config, backend_factory=factory) as engine:
        for i, role in enumerate(roles[:2]):
            await engine.load_model(f"model-{i}", role)
        s = MultiModelSession(engine=engine, config=config)
        for role in roles[:2]:
            await s.add_model(role, engine.executor(role))
        tasks = []

        def on_event(e):
            if e.kind == "consensus" and e.round == 1:
                tasks.append(asyncio.ensure_future(engine.hot_swap(roles[1], "model-9")))

        s.add_listener(on_event)
        r = await s.execute_collaborative_prompt("go")
        await asyncio.gather(*tasks)
    swaps = [e for e in s.events if e.kind == "swap"]
    assert len(swaps) == 1 and swaps[0].source == "engine"
    assert swaps[0].new_model_id == "model-9"
    assert isinstance(swaps[0].seconds, float)
    late = [m for m in r.messages if m.from_role == roles[1] and m.round >= 3]
    assert late and all(m.model_id == "model-9" for m in late)
    assert r.rounds_run == 4
