"""``ray-patterns doctor --job`` on jobs submitted with the real ``ray job submit`` CLI
to a real 2-node ``ray start`` cluster (the shared ``ray_start_cluster`` fixture)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from doctor_helpers import PROGRAMS, marked_lines

from ray_patterns import catalog
from ray_patterns.doctor.job import job_checks

pytestmark = pytest.mark.cluster

RECORD_SITES = json.dumps({"env_vars": {"RAY_record_task_actor_creation_sites": "1"}})
#: the anti job's piles are a few hundred tasks, not the default 10,000
SMALL = ("--set", "unbounded_pending_tasks=80")


@pytest.fixture(scope="module")
def jobs(ray_start_cluster: Any) -> dict[str, str]:
    """Submission ids of the anti job (call sites recorded) and the fixed job, submitted
    at the same time (each ``ray job submit`` waits seconds for its driver to start)."""
    with ThreadPoolExecutor(2) as pool:
        anti = pool.submit(
            ray_start_cluster.submit, PROGRAMS / "job_anti.py", "--runtime-env-json", RECORD_SITES
        )
        fixed = pool.submit(ray_start_cluster.submit, PROGRAMS / "job_fixed.py")
        return {"anti": anti.result(), "fixed": fixed.result()}


_reports: dict[str, dict[str, Any]] = {}


def doctor_job(cluster: Any, job: str, tmp: Path) -> dict[str, Any]:
    """The --json report of ``doctor --job`` (run once per job), plus its terminal text."""
    if job not in _reports:
        out = tmp / f"{job}.json"
        page = tmp / f"{job}.html"
        done = cluster.run(
            "ray-patterns",
            "doctor",
            "--job",
            job,
            "--address",
            cluster.gcs_address,
            *SMALL,
            "--json",
            str(out),
            "--html",
            str(page),
        )
        assert done.returncode == 0, done.stdout + done.stderr
        report = json.loads(out.read_text())
        report["_text"] = done.stdout + done.stderr
        report["_html"] = page.read_text()
        _reports[job] = report
    return _reports[job]


def found(report: dict[str, Any], name: str) -> set[tuple[str, int]]:
    code = catalog.check(name).code
    return {(Path(f["path"]).name, f["line"]) for f in report["findings"] if f["code"] == code}


@pytest.mark.parametrize(
    "check", ["fine-grained-tasks", "ray-get-loop", "unbounded-submission", "blocked-workers"]
)
def test_anti_job_found_at_its_line(
    ray_start_cluster: Any, jobs: dict[str, str], tmp_path_factory: Any, check: str
) -> None:
    report = doctor_job(ray_start_cluster, jobs["anti"], tmp_path_factory.mktemp("anti"))
    expected = {("job_anti.py", line) for line in marked_lines("job_anti", f"JOB {check}")}
    facts = {k: v for k, v in report["observed"].items() if k != "thresholds"}
    assert expected and expected <= found(report, check), json.dumps([report["findings"], facts])


def test_anti_job_facts(
    ray_start_cluster: Any, jobs: dict[str, str], tmp_path_factory: Any
) -> None:
    report = doctor_job(ray_start_cluster, jobs["anti"], tmp_path_factory.mktemp("anti"))
    observed = report["observed"]
    assert observed["submission_id"] == jobs["anti"]
    assert observed["running"] is False and report["exit_code"] == 0
    # 300 + 6 + 120 + 3 parents with 6 children + 1 flaky task
    assert observed["tasks"] == 300 + 6 + 120 + 3 + 6 + 1
    assert observed["nodes"] == 2  # the tasks ran on both nodes
    assert observed["retried_tasks"] == 1 and observed["failed_tasks"] == {}
    assert observed["tasks_timed"] >= observed["tasks"] - 5
    # the terminal summary and the HTML page show the same findings
    for f in report["findings"]:
        assert f["name"] in report["_text"] and f["name"] in report["_html"]


def test_fixed_job_is_silent_and_says_what_it_could_not_check(
    ray_start_cluster: Any, jobs: dict[str, str], tmp_path_factory: Any
) -> None:
    report = doctor_job(ray_start_cluster, jobs["fixed"], tmp_path_factory.mktemp("fixed"))
    assert report["findings"] == []
    assert report["observed"]["tasks"] == 3 + 6 + 120
    notes = " ".join(report["not_observed"])
    live = [c.name for c in catalog.all_checks() if c.doctor and c.name not in job_checks()]
    assert live and all(name in notes for name in live)
    assert "did not record call sites" in notes  # this job ran without them


def test_unknown_job_and_dashboard_url_are_clear_errors(
    ray_start_cluster: Any, jobs: dict[str, str]
) -> None:
    done = ray_start_cluster.run(
        "ray-patterns",
        "doctor",
        "--job",
        "raysubmit_nope",
        "--address",
        ray_start_cluster.gcs_address,
    )
    assert done.returncode != 0
    assert "no job 'raysubmit_nope'" in done.stderr and jobs["fixed"] in done.stderr
    done = ray_start_cluster.run(
        "ray-patterns",
        "doctor",
        "--job",
        jobs["fixed"],
        "--address",
        ray_start_cluster.dashboard_url,
    )
    assert done.returncode != 0 and "--address HOST:PORT" in done.stderr
