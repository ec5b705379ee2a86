"""Every docstring example of the result-flow API runs and prints what it says."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "ray_patterns.submission_order",
    "ray_patterns.too_many_results",
    "ray_patterns.limit_tasks",
    "ray_patterns.fine_grained_tasks",
    "ray_patterns.map_reduce",
    "ray_patterns.tree_of_tasks",
    "ray_patterns.generators",
    "ray_patterns.limit_running_tasks",
    "ray_patterns.actor_sync",
]


@pytest.mark.usefixtures("ray_session")
@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no example"
    assert result.failed == 0
