"""The --job checks on task attempts given as data (no Ray started): what Ray's task
events say about memory kills and retries, call sites, and bad addresses."""

from __future__ import annotations

import pytest
from ray.core.generated import gcs_pb2

from ray_patterns import catalog
from ray_patterns.doctor._events import EventsRead, TaskSpan
from ray_patterns.doctor.job import JobError, _JobFacts, job_checks, resolve_address, site_of
from ray_patterns.doctor.report import Report
from ray_patterns.doctor.thresholds import Thresholds

SITE = '  File "/app/etl.py", line 12, in main\n    ray.get([load.remote(p) for p in parts])\n'
RAY_FRAME = '  File "/venv/lib/python3.11/site-packages/ray/remote_function.py", line 176\n'


def span(n: int, attempt: int = 0, **kw: object) -> TaskSpan:
    out = TaskSpan(bytes([n]) * 24, "load", "w1", "n1", 1, None, None, None, attempt=attempt)
    out.kind, out.call_site, out.created = "NORMAL_TASK", SITE + RAY_FRAME, 100.0 + n
    for name, value in kw.items():
        setattr(out, name, value)
    return out


def facts(*spans: TaskSpan) -> _JobFacts:
    read = EventsRead(spans={(s.task_id, s.attempt): s for s in spans})
    info = gcs_pb2.JobTableData(job_id=b"\x01\x00\x00\x00", is_dead=True, end_time=200_000)
    return _JobFacts(info, read, 2.0, Thresholds().resolved())


def test_memory_killed_attempts_are_one_finding_at_the_submitting_line() -> None:
    oom = "Task was killed due to the node running low on memory."
    f = facts(
        span(1, 0, failed=True, error_type="OUT_OF_MEMORY", error_message=oom),
        span(1, 1, failed=True, error_type="OUT_OF_MEMORY", error_message=oom),
        span(2, 0, failed=True, error_type="TASK_EXECUTION_EXCEPTION", error_message="ValueError"),
    )
    [finding] = job_checks()["memory-killed-tasks"](f)
    assert finding.code == catalog.check("memory-killed-tasks").code
    assert (finding.path, finding.line, finding.count) == ("/app/etl.py", 12, 2)
    assert "low on memory" in finding.message


def test_retries_and_failures_are_reported_as_facts() -> None:
    from ray_patterns.doctor.job import _describe

    f = facts(
        span(1, 0, failed=True, error_type="WORKER_DIED"),
        span(1, 1, start=1.0, end=2.0, ready=2.0),
        span(2, 0, failed=True, error_type="TASK_EXECUTION_EXCEPTION"),
    )
    report = Report()
    _describe(report, f, 0.1)
    assert report.observed["retried_tasks"] == 1
    assert report.observed["failed_tasks"] == {"TASK_EXECUTION_EXCEPTION": 1}
    assert report.observed["task_attempts"] == 3 and report.observed["tasks"] == 2


def test_site_is_the_last_user_frame_below_the_working_dir() -> None:
    unpacked = "/tmp/ray/session_1/runtime_resources/working_dir_files/_ray_pkg_ab12/job.py"
    s = span(1, call_site=f'  File "{unpacked}", line 7, in <module>\n' + SITE + RAY_FRAME)
    assert site_of(s) == ("/app/etl.py", 12)
    s = span(1, call_site=f'  File "{unpacked}", line 7, in <module>\n' + RAY_FRAME)
    assert site_of(s) == ("job.py", 7)
    assert site_of(span(1, call_site="")) == ("load", 0)


@pytest.mark.parametrize("address", ["http://127.0.0.1:8265", "ray://10.0.0.1:10001"])
def test_urls_are_refused_with_the_fix(address: str) -> None:
    with pytest.raises(JobError, match="--address HOST:PORT"):
        resolve_address(address)
