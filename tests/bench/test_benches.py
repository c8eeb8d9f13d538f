"""The speed, memory and responsiveness benchmarks run end to end on real models, in a small
configuration. These tests check that each benchmark measures what it says (its numbers are
consistent with each other and with the pool's state), never how fast this machine is: the
numbers themselves are printed by `logomesh-tui bench` and kept in bench/results/."""

from __future__ import annotations

import pytest

from logomesh_tui.bench import speed
from logomesh_tui.tui.bench_ui import bench_ui
from tests.conftest import require_model

pytestmark = pytest.mark.real

SMALL = "smollm2-135m"
OTHER = "gemma-3-270m"


async def test_overhead_compares_the_stack_with_bare_llama_cpp():
    require_model(SMALL)
    r = await speed.bench_overhead(SMALL, n_ctx=512, max_tokens=16, repeats=3)
    assert r["bare_tokens_per_s"] > 0 and r["stack_tokens_per_s"] > 0
    spread = r["throughput_ratio_spread"]
    # The ratio is the median of per-pair ratios, so it lies within their range.
    assert spread["min"] <= r["throughput_ratio"] == spread["median"] <= spread["max"]
    assert len(r["tokens_generated"]["bare"]) == len(r["tokens_generated"]["stack"]) == 3
    assert min(r["tokens_generated"]["stack"]) > 1
    assert r["met"] == (r["throughput_ratio"] >= 0.98)


async def test_swap_times_ready_and_first_token_for_each_model():
    require_model(SMALL)
    require_model(OTHER)
    r = await speed.bench_swap([SMALL, OTHER], n_ctx=512, swaps=2)
    for model in (SMALL, OTHER):
        m = r["per_model"][model]
        assert 0 < m["swap_ready_s"] <= m["swap_first_token_s"]
        assert m["bare_load_s"] > 0
    assert r["max_swap_ready_s"] == max(m["swap_ready_s"] for m in r["per_model"].values())


async def test_memory_counts_workers_and_leaves_none_behind():
    require_model(SMALL)
    require_model(OTHER)
    r = await speed.bench_memory([SMALL, OTHER], swaps=4, n_ctx=512)
    assert r["workers_while_loaded"] >= 1
    assert r["workers_after_close"] == 0
    assert r["dashboard_rss_growth_per_swap_bytes"] == round(r["dashboard_rss_growth_bytes"] / 4)


async def test_pool_measures_every_role_against_its_estimate():
    require_model(SMALL)
    require_model(OTHER)
    r = await speed.bench_pool([SMALL, OTHER], n_ctx=512, max_tokens=8)
    roles = r["per_role"]
    assert [p["model"] for p in roles.values()] == [SMALL, OTHER]
    for p in roles.values():
        assert p["rss_bytes"] > p["file_bytes"] / 2
        assert 0.5 < p["estimate_bytes"] / p["rss_bytes"] < 2
        assert p["tokens"] > 0 and p["turn_s"] > 0
    assert r["total_rss_bytes"] == sum(p["rss_bytes"] for p in roles.values())


async def test_conversation_accounts_prompt_tokens_and_windows():
    require_model(SMALL)
    r = await speed.bench_conversation([SMALL], messages=4, n_ctx=1024, max_tokens=24)
    assert r["turns"] >= 4 and r["rounds"] >= 1 and r["workers"] == 1
    assert 0 < r["prompt_tokens_evaluated"] <= r["prompt_tokens_sent"]
    assert r["evaluated_per_sent"] == pytest.approx(
        r["prompt_tokens_evaluated"] / r["prompt_tokens_sent"], abs=1e-4)
    assert r["within_windows"] is True
    assert all(r["max_prompt_tokens"][role] <= r["n_ctx"][role] for role in r["n_ctx"])
    assert sum(r["failure_reasons"].values()) == r["failures"] <= r["turns"]


async def test_shared_compares_four_roles_on_one_worker_with_one_role():
    require_model(SMALL)
    code = "\n".join(f"export const value{i} = compute({i});" for i in range(60))
    r = await speed.bench_shared([SMALL], n_ctx=2048, max_tokens=24,
                                 files={"values.ts": code})
    four, one = r["four_roles"], r["one_role"]
    assert four["workers"] == 1 and four["turns"] >= 4
    # The file is evaluated once for four roles, not four times.
    assert four["prompt_tokens_evaluated"] < 4 * one["prompt_tokens_evaluated"]
    assert r["rss_ratio"] == pytest.approx(four["rss_bytes"] / (sum(one["rss_bytes"]) / 2),
                                           abs=1e-3)


async def test_lookup_times_the_stack_with_and_without_lookup_against_bare_llama_cpp():
    require_model(SMALL)
    r = await speed.bench_lookup([SMALL], n_ctx=512, max_tokens=12, repeats=2)
    for kind in ("quotes_code", "plain"):
        k = r[kind]
        # Two timed repeats per side (the first round warms up and is not counted).
        assert [len(k["tokens"][side]) for side in ("off", "on", "bare")] == [2, 2, 2]
        assert k["turn_s_without"] > 0 and k["turn_s_with"] > 0 and k["turn_s_bare"] > 0
        assert k["stack_over_bare"] == pytest.approx(
            k["turn_s_without"] / k["turn_s_bare"], abs=2e-3)
    assert r["met"] == (min(r["plain"]["turn_s_without"], r["plain"]["turn_s_with"]) < 10.0)


async def test_ui_times_the_help_key_to_the_painted_screen():
    require_model(SMALL)
    r = await bench_ui([SMALL], seconds=3.0, n_ctx=512)
    # How many ticks fit depends on the machine's load; the bench reports it, the test needs some.
    assert r["lag_ms"]["samples"] > 0
    assert r["key_to_screen_ms"]["presses"] >= 1
    # Painted comes after stacked: the first includes the layout and paint the second skips.
    assert r["key_to_screen_ms"]["p50"] >= r["key_to_stack_ms"]["p50"]
    assert r["tokens_generated_meanwhile"] > 0
