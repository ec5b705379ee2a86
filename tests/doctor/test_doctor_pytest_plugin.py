"""``pytest --ray-doctor``: inner test runs (pytester, in this process) share this
session's Ray, so each inner run costs only the tests' own Ray work."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

pytest_plugins = ["pytester"]

# each task takes 10 ms: on an idle machine a trivial task answers in under the
# doctor's 2 ms min_block_s, and a get that hardly waited is no get loop
INNER_TESTS = """
import time

import ray

@ray.remote
def work(i):
    time.sleep(0.01)
    return i

def test_get_loop():
    for i in range(5):
        assert ray.get(work.remote(i)) == i  # the anti-pattern

def test_one_get():
    assert ray.get([work.remote(i) for i in range(5)]) == list(range(5))

def test_no_ray():
    assert 1 + 1 == 2
"""
#: the line of the get loop in the inner file (pytester writes the text stripped)
LOOP_LINE = (
    INNER_TESTS.strip()
    .splitlines()
    .index("        assert ray.get(work.remote(i)) == i  # the anti-pattern")
    + 1
)
#: the plugin is auto-loaded from its pytest11 entry point once the package is installed
_INSTALLED = any(
    e.value == "ray_patterns.doctor.pytest_plugin" for e in entry_points(group="pytest11")
)
PLUGIN = () if _INSTALLED else ("-p", "ray_patterns.doctor.pytest_plugin")


@pytest.fixture
def inner(pytester: pytest.Pytester, ray_session: None) -> pytest.Pytester:
    pytester.makepyfile(test_inner=INNER_TESTS)
    return pytester


def test_report_mode_lists_findings_per_test_and_passes(inner: pytest.Pytester) -> None:
    result = inner.runpytest(*PLUGIN, "--ray-doctor", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
    text = result.stdout.str()
    section = text.split("ray-patterns doctor")[-1]
    assert "test_inner.py::test_get_loop:" in section
    assert "RAY105 ray-get-loop" in section and f"test_inner.py:{LOOP_LINE}" in section
    assert "test_one_get:" not in section and "test_no_ray:" not in section
    assert "1 finding(s) in 1 of 3 watched test(s)" in section


def test_fail_mode_fails_only_the_test_that_hit_one(inner: pytest.Pytester) -> None:
    result = inner.runpytest(*PLUGIN, "--ray-doctor=fail", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["FAILED test_inner.py::test_get_loop*"])
    failure = result.stdout.str().split("FAILURES")[1].split("ray-patterns doctor ===")[0]
    assert f"test_inner.py:{LOOP_LINE} RAY105 ray-get-loop" in failure


def test_ini_option_and_opt_out_marker(inner: pytest.Pytester) -> None:
    inner.makeini("[pytest]\nray_doctor = fail\n")
    inner.makeconftest(
        "import pytest\n"
        "def pytest_collection_modifyitems(items):\n"
        "    for item in items:\n"
        "        if item.name == 'test_one_get':\n"
        "            continue\n"
        "        if item.name == 'test_no_ray':\n"
        "            item.add_marker(pytest.mark.no_ray_doctor)\n"
    )
    result = inner.runpytest(*PLUGIN, "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    assert "2 watched test(s)" in result.stdout.str()


def test_off_by_default_and_bad_ini_value(inner: pytest.Pytester) -> None:
    result = inner.runpytest(*PLUGIN, "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
    assert "ray-patterns doctor" not in result.stdout.str()
    inner.makeini("[pytest]\nray_doctor = loud\n")
    result = inner.runpytest(*PLUGIN, "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "use one of off, report, fail" in result.stderr.str()
