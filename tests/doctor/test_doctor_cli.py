"""``ray-patterns doctor -- python prog.py`` end to end, each in its own process.

The program that uses Ray joins the doctor tests' cluster (``RAY_ADDRESS``: no Ray
start of its own, ~7 s saved). The worker hook, HTML and trace outputs are covered
by ``test_doctor_inside.py``'s one run of many programs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import RayCluster
from doctor_helpers import PROGRAMS, marked_lines

from ray_patterns.doctor.report import JSON_SCHEMA


def doctor(
    tmp_path: Path,
    program: str,
    *args: str,
    options: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> Any:
    if env is None:
        env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env = {**env, "RAY_DEDUP_LOGS": "0"}
    command = [
        sys.executable,
        "-m",
        "ray_patterns.cli",
        "doctor",
        "--json",
        str(tmp_path / "report.json"),
        *options,
        "--",
        "python",
        str(PROGRAMS / f"{program}.py"),
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=180)


def load(tmp_path: Path) -> dict[str, Any]:
    data = json.loads((tmp_path / "report.json").read_text())
    jsonschema.validate(data, JSON_SCHEMA)
    return data


def test_program_that_raises_keeps_its_error_and_gets_a_report(tmp_path: Path) -> None:
    done = doctor(tmp_path, "raises")
    assert done.returncode == 1
    assert "json.decoder.JSONDecodeError" in done.stderr
    assert 'raises.py", line 12, in load' in done.stderr  # the program's own frames
    assert "before the error" in done.stdout
    data = load(tmp_path)
    assert data["exit_code"] == 1
    assert data["findings"] == []


@pytest.mark.cluster
def test_program_exiting_3_passes_code_and_args_through(
    tmp_path: Path, ray_start_cluster: RayCluster
) -> None:
    done = doctor(tmp_path, "exits_3", "alpha", "--beta", env=ray_start_cluster.env)
    assert done.returncode == 3, done.stderr
    assert "args ['alpha', '--beta']" in done.stdout
    data = load(tmp_path)
    assert data["exit_code"] == 3
    assert data["observed"]["tasks_timed"] == 4  # read before the program's ray.shutdown()
    loops = [f for f in data["findings"] if f["code"] == "RAY105"]
    assert [(Path(f["path"]).name, f["line"]) for f in loops] == [
        ("exits_3.py", marked_lines("exits_3", "FINDING ray-get-loop")[0])
    ]


def test_program_without_ray(tmp_path: Path) -> None:
    done = doctor(tmp_path, "no_ray", "x")
    assert done.returncode == 0, done.stderr
    assert "plain 45 ['x']" in done.stdout
    data = load(tmp_path)
    assert data["findings"] == []
    assert any("never initialized" in item for item in data["not_observed"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--", "python", "does_not_exist.py"], "no such script"),
        (["--set", "nonsense=3", "--", "python", "x.py"], "unknown threshold"),
        (["--set", "fine_grained_min_calls=lots", "--", "python", "x.py"], "needs a number"),
        (["--", "python"], "give the program to run"),
    ],
)
def test_bad_usage_is_explained(args: list[str], message: str) -> None:
    from click.testing import CliRunner

    from ray_patterns.doctor.cli import doctor as command

    result = CliRunner().invoke(command, args)
    assert result.exit_code == 2
    assert message in result.output


def test_tasks_killed_for_memory_are_found_at_the_submitting_line(tmp_path: Path) -> None:
    # the program's own Ray, whose memory monitor counts any use as too much: it kills
    # the running tasks (a real OutOfMemoryError) with no memory pressure on the machine
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env.update(RAY_memory_usage_threshold="0.01", RAY_memory_monitor_refresh_ms="50")
    env["RAY_task_oom_retries"] = "0"  # by default Ray retries memory kills without end
    done = doctor(tmp_path, "memory_killed", env=env)
    assert done.returncode == 0, done.stderr
    assert "results [None, None]" in done.stdout
    (found,) = [f for f in load(tmp_path)["findings"] if f["name"] == "memory-killed-tasks"]
    assert (Path(found["path"]).name, found["line"]) == (
        "memory_killed.py",
        marked_lines("memory_killed", "FINDING memory-killed-tasks")[0],
    )
    assert found["count"] == 2 and "request at least memory=" in found["message"], found
