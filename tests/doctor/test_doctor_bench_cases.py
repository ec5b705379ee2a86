"""The bench's own anti-pattern programs: the doctor names each one, and not its fixes."""

from __future__ import annotations

from pathlib import Path

import pytest

from ray_patterns.bench.core import discover_cases
from ray_patterns.doctor import Thresholds, watch

MIB = 1 << 20

# case slug -> (doctor slug, thresholds for the quick-mode sizes)
EXPECT = {
    "ray-get-loop": ("ray-get-loop", {}),
    # quick (since 6d15b1e): one run of 8 tasks of 0.03-0.09 s; its results' waits add up
    # to about the default 0.05 s (missed in 5 of 8 runs); the fixes' gets never block
    "submission-order": ("submission-order", {"submission_order_min_wait_s": 0.01}),
    # its fixed variants run 5 passes of 30 batches in one watch (150 calls): below this
    "fine-grained-tasks": ("fine-grained-tasks", {"fine_grained_min_calls": 200}),
    "too-many-results": ("too-many-results", {"too_many_results_bytes": 100 * MIB}),
    "limit-tasks": ("unbounded-submission", {"unbounded_pending_bytes": 28 * MIB}),
    "unnecessary-ray-get": ("unnecessary-ray-get", {}),
    "closure-capture": ("closure-capture", {}),
    "redefine-task-actor-loop": ("redefine-task-actor-loop", {}),
}


@pytest.mark.parametrize("case_slug", sorted(EXPECT))
def test_bench_case_anti_found_and_fixes_clean(ray_session: None, case_slug: str) -> None:
    case = discover_cases()[case_slug]
    slug, thresholds = EXPECT[case_slug]
    variants = [v for v in case.variants(True) if v.role in ("anti", "better", "library")]
    for variant in variants:
        with watch(Thresholds(**thresholds)) as report:  # type: ignore[arg-type]
            variant.run()
        found = report.by_check(slug)
        if variant.role == "anti":
            assert found, f"{variant.name}: {report.findings}"
            case_file = case_slug.replace("-", "_") + ".py"
            assert all(Path(f.path).name == case_file for f in found), found
        else:
            assert found == [], f"{variant.name}: {found}"
