"""Pure-Python parts of the doctor (no Ray started): sizes, thresholds, sites, output."""

from __future__ import annotations

import json

import jsonschema
import numpy as np
import pytest
from click.testing import CliRunner

from ray_patterns import catalog
from ray_patterns._units import human_bytes
from ray_patterns.doctor import Finding, Report, Thresholds
from ray_patterns.doctor._sites import LIBRARY, SKIP, USER, classify, user_site
from ray_patterns.doctor._sizes import sizeof
from ray_patterns.doctor.cli import _split_command
from ray_patterns.doctor.report import JSON_SCHEMA

DOCTOR_CHECKS = [c for c in catalog.all_checks() if c.doctor]


def test_sizeof_buffers_containers_and_long_lists() -> None:
    assert sizeof(np.zeros(1000)) == 8000
    assert sizeof(b"x" * 10) == 10
    assert sizeof([np.zeros(100)] * 3) == 3 * 800 + 3 * 8
    long = [np.zeros(10)] * 10_000  # sampled, extrapolated: still exact for equal items
    assert sizeof(long) == 10_000 * 80 + 10_000 * 8
    assert sizeof({"a": np.zeros(10)}) >= 80
    assert human_bytes(1536) == "1.5 KiB"


def test_thresholds_defaults_and_settings() -> None:
    resolved = Thresholds().resolved()
    assert resolved.too_many_results_bytes is not None
    assert 0 < resolved.too_many_results_bytes <= 1 << 30
    changed = Thresholds().with_settings({"fine-grained-min-calls": "50", "min_block_s": "0.01"})
    assert changed.fine_grained_min_calls == 50 and changed.min_block_s == 0.01
    with pytest.raises(ValueError, match="unknown threshold 'nope'"):
        Thresholds().with_settings({"nope": "1"})
    with pytest.raises(ValueError, match="needs a number"):
        Thresholds().with_settings({"get_loop_min_count": "many"})


def test_sites_skip_ray_and_the_doctor_but_not_user_code() -> None:
    import ray
    import ray.util

    import ray_patterns.doctor
    import ray_patterns.limit_tasks

    assert classify(ray.__file__) == SKIP
    assert classify(ray_patterns.doctor.__file__) == SKIP
    assert classify(ray_patterns.limit_tasks.__file__) == LIBRARY
    assert classify(json.__file__) == SKIP  # the stdlib
    assert classify(ray.util.__file__) == LIBRARY  # ray.util.as_completed & co
    assert classify(pytest.__file__) == LIBRARY  # site-packages
    assert classify(__file__) == USER
    path, line, via_library = user_site(1)
    assert path == __file__ and line > 0 and not via_library


def test_every_catalog_entry_makes_a_valid_finding() -> None:
    report = Report(ray_version="x", exit_code=0)
    report.observed = {
        "tasks": 1,
        "actor_tasks": 0,
        "gets": 1,
        "bytes_fetched": 10,
        "task_durations_source": "none",
    }
    for number, check in enumerate(DOCTOR_CHECKS, 1):
        report.findings.append(
            Finding.make(check.name, "/tmp/a.py", number, 2, "msg", cost_seconds=0.5, nbytes=10)
        )
    data = report.to_dict()
    jsonschema.validate(data, JSON_SCHEMA)
    assert [f["code"] for f in data["findings"]] == [c.code for c in DOCTOR_CHECKS]
    assert {f["source"] for f in data["findings"]} == {"doctor"}
    # the handbook page, not the check name: unbounded-submission is on limit-tasks
    assert report.by_check("unbounded-submission")[0].slug == "limit-tasks"


def test_lookups_by_code_old_code_name_and_page() -> None:
    report = Report()
    report.findings.append(Finding.make("RPD105", "/tmp/a.py", 3, 4, "m"))
    report.findings.append(Finding.make("blocking-get-in-async", "/tmp/a.py", 5, 1, "m"))
    (loop,) = report.by_check("RAY105")
    assert loop.name == "ray-get-loop" and loop.code == "RAY105"
    assert report.by_check("RPD105") == report.by_check("ray-get-loop") == [loop]
    # a page name selects all its checks; Ray's current page names work too
    assert report.by_check("concurrent-operations-async-actor")[0].code == "RAY301"
    assert report.by_check("RPD110") == report.by_check("RAY301")
    assert report.names == {"ray-get-loop", "blocking-get-in-async"}
    with pytest.raises(catalog.UnknownName, match="did you mean"):
        report.by_check("ray-get-lop")


def test_html_and_trace_from_a_timeline(tmp_path) -> None:  # type: ignore[no-untyped-def]
    report = Report(ray_version="x")
    report.findings.append(Finding.make("ray-get-loop", "/tmp/a.py", 3, 4, "waited <here>"))
    report.timeline = [
        {"name": "f", "cat": "task", "node": "n1", "row": "worker 1", "start": 10.0, "end": 10.5},
        {"name": "f", "cat": "task", "node": "n1", "row": "worker 2", "start": 10.2, "end": 11.0},
        {"name": "ray.get", "cat": "driver", "node": "n1", "row": "driver", "start": 10, "end": 11},
    ]
    report.write_html(str(tmp_path / "r.html"))
    page = (tmp_path / "r.html").read_text()
    assert page.count("<rect") == 3
    assert "waited &lt;here&gt;" in page  # escaped
    report.write_trace(str(tmp_path / "t.json"))
    events = json.loads((tmp_path / "t.json").read_text())["traceEvents"]
    spans = [e for e in events if e["ph"] == "X"]
    assert len(spans) == 3 and spans[0]["dur"] == pytest.approx(500_000)
    assert len({e["tid"] for e in spans}) == 3  # a row per worker, one for the driver


def test_summary_lists_each_finding(tmp_path) -> None:  # type: ignore[no-untyped-def]
    report = Report()
    report.findings.append(Finding.make("submission-order", "/tmp/b.py", 7, 2, "m", cost_seconds=1))
    out = tmp_path / "summary.txt"
    with out.open("w") as fh:
        report.print_summary(fh)
    text = out.read_text()
    assert "submission-order" in text and "b.py:7" in text and "as_completed" in text


def test_command_forms() -> None:
    assert _split_command(("python", __file__, "a"))[::2] == ("path", [__file__, "a"])
    module = _split_command(("python3", "-m", "pkg.mod", "x"))
    assert module == ("module", "pkg.mod", ["pkg.mod", "x"])
    runner = CliRunner()
    from ray_patterns.doctor.cli import doctor

    result = runner.invoke(doctor, ["--", "python", "-c", "print(1)"])
    assert result.exit_code == 2 and "'-c' is not supported" in result.output


def test_worker_call_records_give_spans_of_the_last_attempt_of_this_watch() -> None:
    from ray_patterns.doctor._patches import _worker_spans
    from ray_patterns.doctor._recorder import Recorder

    t = Thresholds().resolved()
    shipped = {
        "pid": 7,
        "worker_id": "w" * 8,
        "node_id": "n" * 8,
        # (task id, name, start, end): one from an earlier watch, a retried task
        "calls": [(b"old", "f", 5.0, 6.0), (b"a", "f", 10.0, 10.5), (b"a", "f", 11.0, 11.2)],
    }
    driver = Recorder(t)
    driver.worker_records = [Recorder.from_shipped(shipped, t, since=9.0)]
    spans = _worker_spans(driver)
    assert set(spans) == {b"a"}
    span = spans[b"a"]
    assert (span.start, span.end, span.ready) == (11.0, 11.2, 11.2)
    assert (span.pid, span.worker, span.node, span.name) == (7, "w" * 8, "n" * 8, "f")
