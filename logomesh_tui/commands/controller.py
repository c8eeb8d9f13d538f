"""RunnerController: the command language's ConversationController over a ConversationRunner.

The dashboard and the DevShell each hand the dispatcher one of these; what they show comes from
the views they attach to the runner, so both run conversations the same way. Export lives here
rather than in the runner because exporting sits above the conversation layer.
"""

from __future__ import annotations

from typing import Any

from ..conversation.runner import ConversationRunner, RunState
from ..errors import LogoMeshError
from ..sessions.lineage import fork_session, parse_assignment
from ..sessions.store import ReadResult, SessionStore, SessionSummary, summarize


def opened_lines(summary: SessionSummary, result: ReadResult) -> list[str]:
    """What opening a recorded session says: its size, protocol and roles, and what was lost."""
    roles = ", ".join(f"{r}={m}" for r, m in summary.roles.items()) or "no roles"
    torn = "; its torn last line was skipped" if result.torn_tail else ""
    return [f"opened session {summary.id}: {summary.message_count} messages, "
            f"{summary.protocol or 'unknown protocol'}, {roles}{torn}",
            *(d.describe() for d in result.damaged)]


class RunnerController:
    """start, pause, resume, stop, export and open_session for one runner."""

    def __init__(self, runner: ConversationRunner) -> None:
        self.runner = runner

    @property
    def session_id(self) -> str | None:
        return self.runner.session_id

    @property
    def state(self) -> RunState:
        return self.runner.state

    async def start(self, prompt: str, protocol: str = "four-round", *,
                    max_rounds: int | None = None, roles: list[str] | None = None,
                    files: list[str] | None = None, arbitration: str | None = None) -> str:
        return await self.runner.start(prompt, protocol, max_rounds=max_rounds, roles=roles,
                                       files=files, arbitration=arbitration)

    def pause(self) -> str:
        return self.runner.pause()

    def resume(self) -> str:
        return self.runner.resume()

    async def stop(self) -> str:
        return await self.runner.stop()

    async def export(self, name: str, format: str) -> str:
        from ..export import export_session_async

        if not self.runner.session_id:
            raise LogoMeshError("nothing to export yet: conversation.start(...) or "
                                "session.open(\"ID\") first")
        config = self.runner.config
        # On the event loop (dashboard, shell): the files are written with aiofiles.
        report = await export_session_async(self.runner.session_id, format, name=name,
                                            sessions_dir=config.sessions_dir, config=config)
        return report.summary()

    def open_session(self, session_id: str) -> list[str]:
        result = self.runner.open_session(session_id)
        sid = self.runner.session_id
        assert sid is not None
        path = SessionStore(self.runner.config.sessions_dir).path_for(sid)
        return opened_lines(summarize(sid, path, result.events), result)

    async def fork(self, session_id: str, at: str, roles: list[str],
                   protocol: str | None = None, run: bool = True) -> list[str]:
        """Branch a recorded session after message ``at`` and run the branch."""
        return await fork_and_run(self, session_id, at, roles, protocol, run)


async def seat_models(engine: Any, wanted: dict[str, str]) -> list[str]:
    """Give every role in ``wanted`` its model: load the missing ones, hot-swap the others."""
    active = {m.role: m.model_id for m in engine.get_active_models()}
    lines = []
    for role, model in wanted.items():
        if active.get(role) == model:
            continue
        if role in active:
            await engine.hot_swap(role, model)
            lines.append(f"{role}: {active[role]} -> {model}")
        else:
            await engine.load_model(model, role)
            lines.append(f"loaded {model} as {role}")
    return lines


async def fork_and_run(controller: RunnerController, session_id: str, at: str,
                       roles: list[str], protocol: str | None = None,
                       run: bool = True) -> list[str]:
    """Fork a recorded session after message ``at`` with ``roles`` (``ROLE=MODEL`` items) and,
    with ``run``, continue the branch in the background on this controller's runner."""
    runner = controller.runner
    store = SessionStore(runner.config.sessions_dir)
    result = fork_session(store, session_id, at, assignment=parse_assignment(roles),
                          protocol=protocol)
    changed = ", ".join(f"{r}={m}" for r, m in result.assignment.items()) or "same roles"
    lines = [f"branch {result.id} of {result.parent} after {result.fork_short_id}: {changed}"]
    if not run:
        return lines
    session = await runner.restore(result.id)
    lines += await seat_models(runner.engine, session.participants())
    await runner.seat_restored(session)
    runner.launch(session, None)
    if runner.wait:
        await runner.wait_done()
        if runner.error is not None:
            raise runner.error
        return [*lines, f"branch {result.id} finished"]
    return [*lines, f"running branch {result.id}"]
