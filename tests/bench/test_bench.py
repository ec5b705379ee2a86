from __future__ import annotations

import dataclasses
import importlib
import json
import math
import operator
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from ray_patterns.bench.cli import SUMMARY_WIDTH, summary_table
from ray_patterns.bench.core import (
    Case,
    CaseResult,
    Variant,
    VariantResult,
    default_verdict,
    discover_cases,
    peak_memory,
    run_case,
)
from ray_patterns.bench.report import plot_png
from ray_patterns.cli import main

ISSUE_2_SLUGS = {
    "ray-get-loop",
    "submission-order",
    "too-many-results",
    "limit-tasks",
    "fine-grained-tasks",
    "map-reduce",
    "tree-of-tasks",
}


@pytest.mark.usefixtures("ray_session")
def test_every_result_flow_slug_has_a_case_with_all_three_roles() -> None:
    cases = discover_cases()
    assert ISSUE_2_SLUGS <= set(cases)
    for slug in ISSUE_2_SLUGS:
        roles = {v.role for v in cases[slug].variants(True)}
        assert {"anti", "better", "library"} <= roles, slug


def test_run_case_repeats_round_robin_and_computes_ratios() -> None:
    calls: list[str] = []

    def make(name: str, value: float) -> Variant:
        def run() -> dict[str, float]:
            calls.append(name)
            return {"score": value}

        return Variant(name, {"a": "anti", "b": "better", "l": "library"}[name], run)  # type: ignore[arg-type]

    case = Case(
        "demo",
        "synthetic",
        lambda quick: [make("a", 4.0), make("b", 2.0), make("l", 2.2)],
        metric="score",
        repeats=(3, 3),
    )
    result = run_case(case, quick=True)
    # rounds alternate direction (no variant always runs right after the same one), and
    # every second round starts one later: 3 rounds put a different variant first in each
    assert calls == ["a", "b", "l", "l", "b", "a", "b", "l", "a"]
    assert result.timed_s >= 0 and result.wall_s >= result.timed_s
    assert result.ratio("anti") == pytest.approx(2.0)
    assert result.ratio("library") == pytest.approx(1.1)
    assert result.verdict == "anti-pattern 2.0x slower; library = by hand"


def test_a_ratio_is_taken_round_by_round() -> None:
    # round 3 ran while the machine was busy for the fix alone: median over median
    # would say the library is 2x faster; each round's ratio says 1.1x
    res = CaseResult(
        "demo",
        "synthetic",
        "seconds",
        [
            VariantResult("by hand", "better", [1.0, 2.0, 10.0]),
            VariantResult("library", "library", [1.1, 2.2, 1.0]),
            VariantResult("anti", "anti", [0.0, 4.0, 8.0]),
        ],
    )
    assert res.ratio("library") == pytest.approx(1.1)
    assert default_verdict(res).endswith("library = by hand")
    # a round of the fix that reads 0 has no ratio: median over median
    res.variants[0].values = [0.0, 2.0, 4.0]
    assert res.ratio("library") == pytest.approx(1.1 / 2.0)


def test_a_quick_caveat_replaces_the_misleading_ratio() -> None:
    case = Case(
        "demo",
        "synthetic",
        lambda quick: [
            Variant("a", "anti", lambda: None),
            Variant("b", "better", lambda: None),
            Variant("l", "library", lambda: time.sleep(0.01)),
        ],
        repeats=(1, 1),
        quick_caveat="startup dominates below 1M items",
    )
    quick, full = run_case(case, quick=True), run_case(case, quick=False)
    assert quick.verdict == "quick size too small: startup dominates below 1M items"
    assert "too small" not in full.verdict and "library" in full.verdict


def test_a_failing_variant_is_reported_and_does_not_stop_the_others() -> None:
    def broken() -> None:
        raise RuntimeError("variant broke")

    case = Case(
        "demo",
        "synthetic",
        lambda quick: [Variant("x", "anti", broken), Variant("y", "better", lambda: None)],
    )
    result = run_case(case, quick=True)
    failed, ok = result.variants
    assert failed.error == "RuntimeError: variant broke" and not failed.values
    assert len(ok.values) == 3 and all(v >= 0 for v in ok.values)
    assert math.isnan(result.ratio("anti"))


@pytest.mark.usefixtures("ray_session")
def test_peak_memory_sees_the_driver_heap_grow() -> None:
    with peak_memory(interval=0.005) as mem:
        block = bytearray(64 << 20)
        block[::4096] = b"x" * len(block[::4096])  # touch every page
        import time

        time.sleep(0.1)
        del block
    assert mem["driver_heap_mib"] >= 32
    # the kernel's peak RSS: exact, not sampled; pages the allocator already held do not count
    assert mem["driver_peak_mib"] >= 60
    assert mem["store_peak_mib"] == pytest.approx(0, abs=1)  # nothing was put


def test_list_and_unknown_case() -> None:
    runner = CliRunner()
    listed = runner.invoke(main, ["bench", "--list"])
    assert listed.exit_code == 0
    assert all(slug in listed.output for slug in ISSUE_2_SLUGS)
    unknown = runner.invoke(main, ["bench", "no-such-slug"])
    assert unknown.exit_code == 2 and "unknown case" in unknown.output


@pytest.mark.usefixtures("ray_session")
def test_bench_quick_run_writes_json_with_machine_and_ratios(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    args = ["bench", "--quick", "--case", "ray-get-loop", "--json", str(out)]
    args += ["--plot", str(tmp_path / "figures")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "ray-get-loop" in result.output and "verdict" in result.output
    data = json.loads(out.read_text())
    assert data["machine"]["cpu_count"] >= 1 and data["machine"]["ray_version"]
    (case,) = data["cases"]
    assert case["slug"] == "ray-get-loop"
    assert {v["role"] for v in case["variants"]} == {"anti", "better", "library"}
    assert all(len(v["values"]) == 3 for v in case["variants"])
    assert case["ratios"]["anti/better"] > 0 and case["ratios"]["library/better"] > 0
    png = (tmp_path / "figures" / "ray-get-loop.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    table = (tmp_path / "figures" / "ray-get-loop.md").read_text()
    assert "| get in loop | anti |" in table and "![ray-get-loop bench](ray-get-loop.png)" in table
    # quick runs write the HTML report to a temporary folder and say where
    html_line = next(line for line in result.output.splitlines() if line.startswith("plots of"))
    page = Path(html_line.split(": ", 1)[1].strip()).read_text()
    assert "data:image/png;base64," in page and "bounded_map" in page
    assert case["verdict"].startswith("anti-pattern") and case["kind"] == "speed"
    # the time the case took, in the JSON and in the line under the summary
    assert case["wall_s"] >= sum(sum(v["values"]) for v in case["variants"])
    assert case["wall_s"] >= case["timed_s"] > 0
    line = r"^timed work: \d+ s in the timed runs; \d+ s for the 1 cases"
    assert re.search(line, result.output, re.M), result.output


@pytest.mark.usefixtures("ray_session")
def test_every_peer_runs_the_workload_and_checks_its_result() -> None:
    from ray_patterns.bench.cases._peers import peer_variants

    seen: list[list[int]] = []
    # a stdlib function: each pool's processes unpickle it without importing this
    # test module (and with it Ray, click and rich: about a second per process)
    variants = peer_variants(
        operator.neg, lambda: range(20), lambda values: seen.append(list(values))
    )
    names = {v.name for v in variants}
    assert any("joblib" in n for n in names) and any("dask" in n for n in names)
    # each peer starts its own processes or actors, mostly waiting (ray.data's first
    # use takes seconds): they all run at once, each in its thread
    with ThreadPoolExecutor(max_workers=len(variants)) as pool:
        for future in [pool.submit(v.run) for v in variants]:
            future.result()
    assert len(seen) == len(variants)
    # ray.data need not keep input order
    assert all(sorted(values) == sorted(-x for x in range(20)) for values in seen)


def test_every_catalog_page_has_a_bench_case_and_every_case_a_page() -> None:
    from ray_patterns import catalog

    pages = {p.bench_case for p in catalog.PAGES}
    cases = discover_cases()
    assert set(cases) - pages == set(catalog.TOOL_BENCH_CASES)
    missing = sorted(pages - set(cases))
    assert not missing, f"pages without a bench case (bench/cases/<slug>.py): {missing}"
    for slug in pages:
        module = importlib.import_module("ray_patterns.bench.cases." + slug.replace("-", "_"))
        assert module.CASE.slug == slug


# what each page is about, so what its headline must be (issue 15)
PAGE_KINDS = {
    "limit-tasks": "memory",
    "too-many-results": "memory",
    "generators": "memory",
    "map-reduce": "memory",
    "submission-order": "latency",
    "concurrent-operations-async-actor": "latency",
    "global-variables": "correctness",
    "fault-tolerance-actor-checkpointing": "correctness",
    "out-of-band-object-ref-serialization": "correctness",
    "fork-new-processes": "correctness",
}


def test_each_page_case_leads_with_its_pages_kind_of_metric() -> None:
    cases = discover_cases()
    for slug, kind in PAGE_KINDS.items():
        if slug in cases:  # a missing case fails the test above
            assert cases[slug].kind == kind, slug
            assert kind != "correctness" or cases[slug].correct, slug


@pytest.mark.usefixtures("ray_session")
@pytest.mark.parametrize(
    ("slug", "says"),
    [
        ("too-many-results", "the memory"),
        ("global-variables", "read 6, expected 7"),
        # the producer's heap peak is exact (tracemalloc), not quantised at an output
        ("generators", "(80 vs 16 MiB producer peak); library = by hand"),
    ],
)
def test_a_real_case_reports_its_pages_metric_in_every_run(slug: str, says: str) -> None:
    case = dataclasses.replace(discover_cases()[slug], repeats=(1, 1))  # one run each: fast
    result = run_case(case, quick=True)
    assert all(v.error is None for v in result.variants), result.variants
    for variant in result.variants:
        assert variant.values and all(case.metric in e for e in variant.extras)
        if case.correct:
            assert all(case.correct in e for e in variant.extras)
    assert result.verdict.startswith("anti-pattern") and says in result.verdict, result.verdict
    png = plot_png(result, {"cpu_count": 2, "ray_version": "x"})
    assert png.startswith(b"\x89PNG")


def test_the_summary_fits_100_columns_with_every_page_name_in_full() -> None:
    from ray_patterns import catalog

    def variant(role: str, value: float) -> VariantResult:
        return VariantResult(f"a {role} variant", role, [value], [{"seconds": value}])  # type: ignore[arg-type]

    results = []
    for slug in [p.bench_case for p in catalog.PAGES] + list(catalog.TOOL_BENCH_CASES):
        res = CaseResult(
            slug,
            "s",
            "seconds",
            [variant("anti", 2.0), variant("better", 1.0), variant("library", 1.0)],
            label="result delay",
        )
        peer = "ray.util.multiprocessing.Pool.map (incl. start)"
        res.variants.append(VariantResult(peer, "peer", [1.5]))
        res.verdict = default_verdict(res)
        results.append(res)
    console = Console(width=200, record=True)
    for table in summary_table(results):
        console.print(table, width=SUMMARY_WIDTH)
    text = console.export_text()
    assert max(len(line.rstrip()) for line in text.splitlines()) <= 100
    for res in results:
        assert re.search(rf"^ ?{re.escape(res.slug)}\s", text, re.M), res.slug
    assert "anti-pattern 2.0x slower; library = by hand" in text


def _fork_result(anti: list[dict[str, float]]) -> CaseResult:
    ok = [{"seconds": 1.0, "ok": 1.0, "hung": 0.0, "crashed": 0.0}]
    return CaseResult(
        "fork-new-processes",
        "s",
        "seconds",
        [
            VariantResult("fork", "anti", [1.0] * len(anti), anti),
            VariantResult("spawn", "better", [1.0], ok),
        ],
        kind="correctness",
        correct="ok",
    )


def test_the_fork_verdict_says_what_happened_and_never_a_hang_that_did_not() -> None:
    fork = importlib.import_module("ray_patterns.bench.cases.fork_new_processes")
    worked = fork.verdict(_fork_result([{"ok": 1.0, "hung": 0.0, "crashed": 0.0}] * 2))
    assert "NOT wrong here" in worked and "worked in 2 of 2 runs" in worked
    assert "hung" not in worked and "crashed" not in worked
    hung = fork.verdict(
        _fork_result(
            [{"ok": 0.0, "hung": 1.0, "crashed": 0.0, "killed_after_s": 38.2}, {"ok": 1.0}]
        )
    )
    assert hung.startswith("fork-started Pool: hung in 1 (killed after 38 s) of 2 runs"), hung
    assert "spawn-started worked in 1 of 1 runs" in hung
    crashed = fork.verdict(
        _fork_result([{"ok": 0.0, "crashed": 1.0, "raylet_died": 1.0}, {"ok": 0.0, "crashed": 1.0}])
    )
    assert crashed.startswith("fork-started Pool: crashed in 2 (the raylet died in 1) of 2")


def test_the_timing_line_says_timed_runs_and_whole_cases_apart() -> None:
    from ray_patterns.bench.cli import timing_line

    results = [
        CaseResult(f"case-{i}", "s", "seconds", [], wall_s=2.0 * i, timed_s=float(i))
        for i in range(5)
    ]
    first, second = timing_line(results).splitlines()
    assert first == (
        "timed work: 10 s in the timed runs; 20 s for the 5 cases with setup, warm-ups and figures"
    )
    assert second == "slowest: case-4 8 s, case-3 6 s, case-2 4 s"
    assert max(len(line) for line in (first, second)) <= SUMMARY_WIDTH
