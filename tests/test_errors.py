"""RayPatternsError is the base of every exception the library defines; shared docs run."""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil

import pytest

import ray_patterns
from ray_patterns._errors import RayPatternsError


def _library_modules() -> list[str]:
    skip = ("lint", "doctor", "bench", "cli", "catalog", "_catalog_cli")
    return [
        f"ray_patterns.{m.name}"
        for m in pkgutil.iter_modules(ray_patterns.__path__)
        if m.name not in skip
    ]


def _defined_exceptions() -> list[type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for name in _library_modules():
        module = importlib.import_module(name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(obj, Exception)
                and not issubclass(obj, Warning)
                and obj.__module__.startswith("ray_patterns.")
            ):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return list(found.values())


def test_the_library_defines_exceptions() -> None:
    names = {e.__name__ for e in _defined_exceptions()}
    assert {"ChildFailedError", "CheckpointError", "RayPatternsError"} <= names


def test_every_library_exception_is_a_ray_patterns_error() -> None:
    outside = [e.__qualname__ for e in _defined_exceptions() if not issubclass(e, RayPatternsError)]
    assert not outside, f"library exceptions that are not RayPatternsErrors: {outside}"


def test_old_bases_are_kept() -> None:
    from ray_patterns.fault_tolerance_actor_checkpointing import CheckpointError
    from ray_patterns.tree_of_actors import ChildFailedError

    assert issubclass(ChildFailedError, RuntimeError)
    assert issubclass(CheckpointError, RuntimeError)


@pytest.mark.usefixtures("ray_session")
@pytest.mark.parametrize("name", ["ray_patterns._errors", "ray_patterns._stream"])
def test_shared_docstring_examples_run(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
