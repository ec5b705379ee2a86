"""Each detector on real Ray, both directions: finds the anti-pattern at the right line,
stays silent on the fixed program."""

from __future__ import annotations

import pytest
from doctor_helpers import marked_lines, run_program, sites

from ray_patterns import catalog

MIB = 1 << 20

# slug, program stem, thresholds the small test programs need
PAIRS = [
    ("ray-get-loop", "get_loop", {}),
    ("submission-order", "submission_order", {}),
    ("too-many-results", "too_many_results", {"too_many_results_bytes": 16 * MIB}),
    ("unnecessary-ray-get", "unnecessary_get", {}),
    ("redefine-task-actor-loop", "redefine", {}),
    ("closure-capture", "closure", {}),
    ("fine-grained-tasks", "fine_grained", {}),
    ("global-variables", "globals", {}),
    ("global-variables", "globals_actor", {}),
    ("blocking-get-in-async", "async", {}),
    ("unbounded-submission", "unbounded", {"unbounded_pending_tasks": 50}),
    ("sync-actor-polling-loop", "sync_loop", {}),
]


@pytest.mark.parametrize(("slug", "stem", "thresholds"), PAIRS, ids=[p[1] for p in PAIRS])
def test_finds_the_anti_pattern_at_its_line(
    ray_session: None, slug: str, stem: str, thresholds: dict
) -> None:
    program = f"{stem}_anti"
    # lines inside tasks and actors too: Ray runs before the watch here, the workers
    # are observed through the definitions the watch exports
    expected = {(f"{program}.py", line) for line in marked_lines(program, f"FINDING {slug}")}
    assert expected, "the program marks the lines it expects"
    report = run_program(program, **thresholds)
    assert expected <= sites(report, slug), report.findings
    for finding in report.by_check(slug):
        assert finding.count >= 1
        assert finding.ray_url is not None and finding.ray_url.startswith("https://docs.ray.io/")
        assert finding.code == catalog.check(slug).code and finding.source == "doctor"


@pytest.mark.parametrize(("slug", "stem", "thresholds"), PAIRS, ids=[p[1] for p in PAIRS])
def test_silent_on_the_fixed_program(
    ray_session: None, slug: str, stem: str, thresholds: dict
) -> None:
    report = run_program(f"{stem}_fixed", **thresholds)
    assert report.by_check(slug) == []
    assert report.observed["tasks"] + report.observed["actor_tasks"] > 0


def test_counts_costs_and_bytes(ray_session: None) -> None:
    loop = run_program("get_loop_anti").by_check("ray-get-loop")[0]
    assert loop.count == 8
    assert loop.cost_seconds is not None and 0 < loop.cost_seconds < 10

    big = run_program("too_many_results_anti", too_many_results_bytes=16 * MIB)
    (found,) = big.by_check("too-many-results")
    assert found.bytes is not None and 32 * MIB <= found.bytes < 33 * MIB

    fine = run_program("fine_grained_anti").by_check("fine-grained-tasks")[0]
    assert fine.count == 300
    assert "median run time" in fine.message

    order = run_program("submission_order_anti").by_check("submission-order")[0]
    # five 20 ms tasks were ready long before the 0.6 s straggler: each waited ~0.5 s
    assert order.cost_seconds is not None and order.cost_seconds > 1.0


def test_unnecessary_get_names_both_lines(ray_session: None) -> None:
    report = run_program("unnecessary_get_anti")
    (finding,) = report.by_check("unnecessary-ray-get")
    assert finding.line == marked_lines("unnecessary_get_anti", "FINDING")[0]
    related = finding.related[0]
    assert related.line == marked_lines("unnecessary_get_anti", "RELATED")[0]
    assert finding.bytes == 8 * MIB


def test_global_variables_tells_rebinding_from_mutation(ray_session: None) -> None:
    report = run_program("globals_anti")
    messages = {f.line: f.message for f in report.by_check("global-variables")}
    scale, settings = marked_lines("globals_anti", "FINDING global-variables")
    assert "'scale'" in messages[scale] and "rebound" in messages[scale]
    assert "'settings'" in messages[settings] and "mutated in place" in messages[settings]


def test_closure_capture_names_the_variable(ray_session: None) -> None:
    (finding,) = run_program("closure_anti").by_check("closure-capture")
    assert "table (4.0 MiB)" in finding.message
    assert finding.bytes is not None and finding.bytes >= 4 * MIB


def test_thresholds_are_honoured(ray_session: None) -> None:
    # the same program under a higher bar finds nothing of that slug
    report = run_program("fine_grained_anti", fine_grained_min_calls=1000)
    assert report.by_check("fine-grained-tasks") == []
    report = run_program("get_loop_anti", get_loop_min_count=50)
    assert report.by_check("ray-get-loop") == []
