"""The package surface: every public name resolves, and importing it does not import Ray."""

from __future__ import annotations

import subprocess
import sys

import ray_patterns


def test_every_public_name_resolves() -> None:
    for name in ray_patterns.__all__:
        assert getattr(ray_patterns, name) is not None, name
    assert set(ray_patterns.__all__) <= set(dir(ray_patterns))


def test_unknown_name_is_an_attribute_error() -> None:
    try:
        ray_patterns.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def _python(code: str) -> str:
    """What a fresh interpreter prints running ``code`` (nothing imported before)."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_import_and_lint_do_not_import_ray() -> None:
    code = "import sys, ray_patterns, ray_patterns.lint.cli; print('ray' in sys.modules)"
    assert _python(code) == "False"


def test_a_worker_importing_a_page_module_does_not_read_the_catalog() -> None:
    # every Ray worker that unpickles one of our tasks imports its module
    code = (
        "import sys, ray_patterns.doctor._worker, ray_patterns.tree_of_tasks;"
        "print('ray_patterns.catalog' in sys.modules)"
    )
    assert _python(code) == "False"


def test_a_public_name_stays_the_function_after_its_module_is_imported() -> None:
    # the module ray_patterns.map_reduce defines the function map_reduce
    code = (
        "import importlib, ray_patterns; importlib.import_module('ray_patterns.map_reduce');"
        "print(callable(ray_patterns.map_reduce) and type(ray_patterns.map_reduce).__name__)"
    )
    assert _python(code) == "function"
