"""The handbook's example programs (``examples/<page>/``): the doctor names each
anti-pattern at a line that does what the slug says. (That every fixed example is
silent, under every check, is asserted by ``tests/test_examples.py``, which runs
each example under the doctor.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from doctor_helpers import run_path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MIB = 1 << 20

# example dir -> (doctor slug, text the flagged line must contain, thresholds for its size)
EXPECT: dict[str, tuple[str, str, dict[str, int]]] = {
    "ray_get_loop": ("ray-get-loop", "ray.get(", {}),
    "submission_order": ("submission-order", "ray.get(", {}),
    "too_many_results": ("too-many-results", "ray.get(", {"too_many_results_bytes": 24 * MIB}),
    "unnecessary_ray_get": ("unnecessary-ray-get", "ray.get(", {}),
    "redefine_task_actor_loop": ("redefine-task-actor-loop", "ray.remote", {}),
    "closure_capture": ("closure-capture", "ray.remote", {}),
    "fine_grained_tasks": ("fine-grained-tasks", ".remote(", {}),
    "global_variables": ("global-variables", "<the global's name>", {}),
    "limit_tasks": ("unbounded-submission", ".remote(", {"unbounded_pending_tasks": 50}),
}


@pytest.mark.parametrize("example", sorted(EXPECT))
def test_example_anti_found_at_the_right_line(ray_session: None, example: str) -> None:
    slug, text, thresholds = EXPECT[example]
    anti = EXAMPLES / example / "anti.py"
    found = run_path(anti, **thresholds).by_check(slug)
    assert found, f"{anti}: no {slug}"
    lines = anti.read_text().splitlines()
    for finding in found:
        assert Path(finding.path) == anti
        if slug == "global-variables":  # the line that reads the global
            text = finding.message.split("reads the global '")[1].split("'")[0]
        assert text in lines[finding.line - 1], (finding.line, lines[finding.line - 1])
