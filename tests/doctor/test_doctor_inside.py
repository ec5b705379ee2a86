"""Worker-side observation: anti-patterns inside tasks and actors, and the newer
pages' run-time checks, both ways the doctor gets into the workers:

- on the session's local Ray, already running before the watch (``watch()`` in this
  process): the definitions are wrapped before their first export;
- on a 2-node ``ray start`` cluster reached with ``RAY_ADDRESS`` under ``ray-patterns
  doctor -- python ...``: the program's ``ray.init`` gets the runtime_env hook.

``inside_all.py`` runs ``inside_anti.py`` (each finding marked at its line) and then
``inside_fixed.py`` (the same work fixed: nothing to report)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import RayCluster
from doctor_helpers import PROGRAMS, run_program

from ray_patterns import catalog
from ray_patterns.doctor.report import JSON_SCHEMA, Report

ANTI = PROGRAMS / "inside_anti.py"
# the inner piles are 300 tasks, not the default 10,000
OPTIONS = ("--set", "unbounded_pending_tasks=50")


def expected() -> dict[str, set[int]]:
    """Check name -> lines of inside_anti.py marked ``# FINDING name ...``."""
    out: dict[str, set[int]] = {}
    for number, line in enumerate(ANTI.read_text().splitlines(), 1):
        marker = re.search(r"# FINDING (.+)$", line)
        for name in marker.group(1).split() if marker else ():
            out.setdefault(name, set()).add(number)
    return out


def watched(tmp: Path, env: dict[str, str], program: str = "inside_all.py") -> dict[str, Any]:
    out, trace, page = tmp / "report.json", tmp / "trace.json", tmp / "report.html"
    command = [sys.executable, "-m", "ray_patterns.cli", "doctor", "--json", str(out)]
    command += ["--trace", str(trace), "--html", str(page), *OPTIONS, "--"]
    command += ["python", str(PROGRAMS / program)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(out.read_text())
    jsonschema.validate(report, JSON_SCHEMA)
    report["_stdout"], report["_stderr"] = done.stdout, done.stderr
    report["_html"] = page.read_text()
    events = report["_events"] = json.loads(trace.read_text())["traceEvents"]
    report["_nodes"] = {
        e["pid"] for e in events if e["ph"] == "X" and e["cat"] == "task" and e["pid"] != "node"
    }
    return report


@pytest.fixture
def local_report(ray_session: None) -> Report:
    """inside_all.py under watch() in this process (Ray was running before the watch),
    run once per session."""
    return run_program("inside_all", unbounded_pending_tasks=50)


@pytest.fixture(scope="module")
def cluster_report(
    ray_start_cluster: RayCluster, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    return watched(tmp_path_factory.mktemp("cluster"), ray_start_cluster.env)


def found(report: dict[str, Any], name: str, path: Path) -> set[int]:
    code = catalog.check(name).code
    return {f["line"] for f in report["findings"] if f["code"] == code and f["path"] == str(path)}


def _check_report(report: dict[str, Any]) -> None:
    assert report["observed"]["worker_hook"] == "installed"
    assert report["observed"]["worker_processes"] >= 2
    missing = {
        name: lines for name, lines in expected().items() if not lines <= found(report, name, ANTI)
    }
    assert not missing, (missing, [(f["name"], f["line"]) for f in report["findings"]])
    fixed = [f for f in report["findings"] if Path(f["path"]).name != "inside_anti.py"]
    assert fixed == [], fixed  # inside_fixed.py (and the runner) is silent


def test_inside_tasks_and_actors_on_a_ray_running_before_the_watch(local_report: Report) -> None:
    _check_report(local_report.to_dict())
    assert local_report.not_observed == []


def _check_scopes(findings: list[dict[str, Any]]) -> None:
    scopes = {(f["name"], f["line"]): f["scope"] for f in findings}
    lines = expected()
    loop_in_task, loop_in_actor = sorted(lines["ray-get-loop"])
    assert scopes[("ray-get-loop", loop_in_task)] == "parent"
    assert scopes[("ray-get-loop", loop_in_actor)] == "Waiter.sum_calls"
    assert scopes[("actor-busy-wait", min(lines["actor-busy-wait"]))] == "Waiter.wait_for"
    assert scopes[("blocking-get-in-async", min(lines["blocking-get-in-async"]))] == "Poller.poll"
    fan_out = [f for f in findings if f["name"] == "fine-grained-tasks"][0]
    assert fan_out["count"] == 300 and fan_out["message"].startswith("in fan_out: ")


def test_findings_name_the_task_or_actor_method(local_report: Report) -> None:
    _check_scopes(local_report.to_dict()["findings"])
    # Ray's own task names stay the user's (the wrapped definitions keep their names)
    names = {item["name"] for item in local_report.timeline if item["cat"] == "task"}
    assert {"parent", "fan_out", "Waiter.sum_calls", "Poller.poll"} <= names


@pytest.mark.cluster
def test_inside_tasks_and_actors_on_a_two_node_cluster(cluster_report: dict[str, Any]) -> None:
    _check_report(cluster_report)
    _check_scopes(cluster_report["findings"])
    assert "inside_anti done on 2 node(s)" in cluster_report["_stdout"]
    assert len(cluster_report["_nodes"]) == 2  # the tasks ran on both nodes


@pytest.mark.cluster
def test_summary_html_and_trace_of_the_same_run(cluster_report: dict[str, Any]) -> None:
    names = {f["name"] for f in cluster_report["findings"]}
    assert all(name in cluster_report["_stderr"] for name in names)  # the terminal summary
    page = cluster_report["_html"]
    assert "<svg" in page and all(name in page for name in names)
    assert "<script src" not in page and "<link" not in page  # self-contained
    spans = [e for e in cluster_report["_events"] if e["ph"] == "X"]
    assert any(e["name"].endswith("poll") for e in spans)  # the async actor's method
