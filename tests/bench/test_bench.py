from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from ray_patterns.bench.core import Case, Variant, discover_cases, peak_memory, run_case
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
        repeats=(2, 3),
    )
    result = run_case(case, quick=True)
    assert calls == ["a", "b", "l", "a", "b", "l"]
    assert result.ratio("anti") == pytest.approx(2.0)
    assert result.ratio("library") == pytest.approx(1.1)


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
    args = ["bench", "--quick", "ray-get-loop", "--json", str(out)]
    args += ["--plot", str(tmp_path / "figures"), "--html", str(tmp_path / "bench.html")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "ray-get-loop" in result.output and "library/better" in result.output
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
    page = (tmp_path / "bench.html").read_text()
    assert "data:image/png;base64," in page and "bounded_map" in page


def _double(x: int) -> int:
    return 2 * x


@pytest.mark.usefixtures("ray_session")
def test_every_peer_runs_the_workload_and_checks_its_result() -> None:
    from ray_patterns.bench.cases._peers import peer_variants

    seen: list[list[int]] = []
    variants = peer_variants(_double, lambda: range(20), lambda values: seen.append(list(values)))
    names = {v.name for v in variants}
    assert any("joblib" in n for n in names) and any("dask" in n for n in names)
    for variant in variants:
        variant.run()
    assert len(seen) == len(variants)
    # ray.data need not keep input order
    assert all(sorted(values) == [2 * x for x in range(20)] for values in seen)
