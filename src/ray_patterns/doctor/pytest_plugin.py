"""``pytest --ray-doctor``: the handbook anti-patterns each test's code hits.

Each test's call runs under ``ray_patterns.doctor.watch()``; the findings are listed
per test at the end of the run. ``--ray-doctor=fail`` (or ``ray_doctor = fail`` in
the ini file) also fails a test whose code hit one, so a project keeps anti-patterns
out of its suite the way it keeps out warnings. Tests that run their own
``doctor.watch()`` opt out with ``@pytest.mark.no_ray_doctor`` (watches do not nest).

Example::

    $ pytest --ray-doctor=fail tests/
    ...
    ==================== ray-patterns doctor ====================
    tests/test_etl.py::test_load: RAY105 ray-get-loop at etl.py:12: ...
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

MODES = ("off", "report", "fail")
_REPORTS = pytest.StashKey[dict[str, Any]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ray-doctor", "ray-patterns doctor")
    group.addoption(
        "--ray-doctor",
        nargs="?",
        const="report",
        default=None,
        choices=MODES,
        dest="ray_doctor",
        help="Watch each test's Ray calls: 'report' (the default when given) lists the "
        "anti-patterns per test at the end, 'fail' also fails the tests that hit one.",
    )
    parser.addini(
        "ray_doctor", "ray-patterns doctor for every test: off, report or fail", default="off"
    )


def _mode(config: pytest.Config) -> str:
    mode = config.getoption("ray_doctor") or str(config.getini("ray_doctor") or "off")
    mode = mode.strip().lower()
    if mode not in MODES:
        raise pytest.UsageError(f"ray_doctor = {mode!r}: use one of {', '.join(MODES)}")
    return mode


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "no_ray_doctor: do not watch this test with ray-patterns doctor"
    )
    config.stash[_REPORTS] = {}
    _mode(config)  # a bad ini value is a usage error up front


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    mode = _mode(item.config)
    if mode == "off" or item.get_closest_marker("no_ray_doctor") is not None:
        return (yield)
    from ray_patterns.doctor import watch

    with watch() as report:
        result = yield
    item.config.stash[_REPORTS][item.nodeid] = report
    if mode == "fail" and report.findings:
        lines = "\n".join(_lines(report))
        pytest.fail(f"ray-patterns doctor: the test hit anti-pattern(s):\n{lines}", pytrace=False)
    return result


def _lines(report: Any) -> list[str]:
    return [f"  {f.where} {f.code} {f.name}: {f.message}" for f in report.findings]


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    reports: dict[str, Any] = config.stash.get(_REPORTS, {})
    if _mode(config) == "off":
        return
    hit = {nodeid: r for nodeid, r in reports.items() if r.findings}
    terminalreporter.section("ray-patterns doctor")
    for nodeid, report in hit.items():
        terminalreporter.write_line(f"{nodeid}:")
        for line in _lines(report):
            terminalreporter.write_line(line)
    total = sum(len(r.findings) for r in hit.values())
    terminalreporter.write_line(
        f"{total} finding(s) in {len(hit)} of {len(reports)} watched test(s)"
    )
