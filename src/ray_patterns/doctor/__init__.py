"""``ray-patterns doctor``: the anti-patterns a program actually hits while it runs.

``watch()`` patches Ray's driver entry points for the duration of a block and
reports, per call site of the user's code, each handbook anti-pattern it saw,
how often and what it cost. Task run times come from Ray's own task events (see
``ray_patterns.doctor._events`` for why); blocking gets inside workers' event
loops come from a small worker hook installed when the watched code calls
``ray.init``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ray_patterns.doctor.thresholds import Thresholds

if TYPE_CHECKING:
    from ray_patterns.doctor.report import Finding, Report

__all__ = ["Finding", "Report", "Thresholds", "watch"]


def __getattr__(name: str) -> Any:
    # the report's modules on first use: every observed worker imports this package
    # (``_worker``) and never builds a report, so it does not pay for their import
    if name in ("Finding", "Report"):
        from ray_patterns.doctor import report

        return getattr(report, name)
    raise AttributeError(f"module 'ray_patterns.doctor' has no attribute {name!r}")


@contextmanager
def watch(
    thresholds: Thresholds | None = None,
    *,
    json_path: str | None = None,
    html_path: str | None = None,
    trace_path: str | None = None,
    summary: bool = False,
) -> Iterator[Report]:
    """Watch the Ray calls of a block; the yielded ``Report`` is filled when it ends.

    Works whether or not Ray is already running. The block's own exceptions pass
    through unchanged; the report (and the files asked for) is written anyway.

    >>> import ray, ray_patterns.doctor as doctor
    >>> with doctor.watch() as report:
    ...     pass
    >>> report.findings
    []
    """
    from ray_patterns.doctor import _patches, _recorder
    from ray_patterns.doctor.analysis import analyze
    from ray_patterns.doctor.report import Report

    recorder = _recorder.Recorder((thresholds or Thresholds()).resolved())
    report = Report()
    _patches.install(recorder)
    try:
        yield report
    finally:
        recorder.stopped = time.time()
        _patches.uninstall()
        try:
            _patches.collect_from_cluster(recorder)
        finally:
            analyze(recorder, report)
            _write_outputs(report, json_path, html_path, trace_path, summary)


def _write_outputs(
    report: Report,
    json_path: str | None,
    html_path: str | None,
    trace_path: str | None,
    summary: bool,
) -> None:
    if json_path:
        report.write_json(json_path)
    if html_path:
        report.write_html(html_path)
    if trace_path:
        report.write_trace(trace_path)
    if summary:
        report.print_summary()
