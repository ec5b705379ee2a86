"""ray-patterns: the Ray design-patterns handbook as software.

Each public name implements one handbook page (its slug in the module name).
Names are imported on first use, so ``ray-patterns lint`` and the flake8
plugin never pay for importing Ray.
"""

from __future__ import annotations

import functools
import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"


@functools.cache
def _exports() -> dict[str, str]:
    """Public name -> module (the handbook slug in snake_case), from the catalog.

    Read on first use, not at import: every Ray worker that unpickles one of our
    tasks imports this package, and the catalog would cost each one ~3 ms.
    """
    # import_module, not `from ray_patterns import catalog`: that would look the
    # name up through __getattr__ below, which calls this function
    return importlib.import_module("ray_patterns.catalog").exports()


def __getattr__(name: str) -> Any:
    if name == "__all__":
        value: Any = sorted(_exports())
    else:
        module = _exports().get(name)
        if module is None:
            raise AttributeError(f"module 'ray_patterns' has no attribute {name!r}")
        value = getattr(importlib.import_module(f"ray_patterns.{module}"), name)
    globals()[name] = value
    return value


class _Package(types.ModuleType):
    """The package module; keeps a public name from being replaced by a submodule.

    Importing ``ray_patterns.map_reduce`` (the module) makes the import system bind
    it as the package attribute ``map_reduce``, shadowing the function of that name.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        # hasattr first: only a module holding a name of its own can shadow one
        if (
            isinstance(value, types.ModuleType)
            and hasattr(value, name)
            and _exports().get(name) == name
        ):
            value = getattr(value, name)
        super().__setattr__(name, value)

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        # pickled by name, as every module is (cloudpickle knows only ModuleType itself)
        return importlib.import_module, (self.__name__,)


sys.modules[__name__].__class__ = _Package


def __dir__() -> list[str]:
    return sorted([*globals(), *_exports()])


# The names again, for type checkers and IDEs (`as X`: re-exported). They cannot be
# derived at run time; tests/test_catalog.py checks they equal the catalog's exports.
if TYPE_CHECKING:
    from ray_patterns._errors import RayPatternsError as RayPatternsError
    from ray_patterns._stream import ResultStream as ResultStream
    from ray_patterns.actor_sync import Barrier as Barrier
    from ray_patterns.actor_sync import Event as Event
    from ray_patterns.actor_sync import Semaphore as Semaphore
    from ray_patterns.actor_sync import SyncActorDiedError as SyncActorDiedError
    from ray_patterns.concurrent_operations_async_actor import PollingActor as PollingActor
    from ray_patterns.concurrent_operations_async_actor import run_blocking as run_blocking
    from ray_patterns.fault_tolerance_actor_checkpointing import KVStore as KVStore
    from ray_patterns.fault_tolerance_actor_checkpointing import checkpointed as checkpointed
    from ray_patterns.fault_tolerance_actor_checkpointing import readonly as readonly
    from ray_patterns.fine_grained_tasks import batched_map as batched_map
    from ray_patterns.generators import generate as generate
    from ray_patterns.generators import with_backpressure as with_backpressure
    from ray_patterns.global_variables import SharedState as SharedState
    from ray_patterns.global_variables import shared_state as shared_state
    from ray_patterns.limit_running_tasks import TaskTooLargeError as TaskTooLargeError
    from ray_patterns.limit_running_tasks import measure_memory as measure_memory
    from ray_patterns.limit_running_tasks import memory_map as memory_map
    from ray_patterns.limit_running_tasks import tasks_that_fit as tasks_that_fit
    from ray_patterns.limit_running_tasks import with_memory as with_memory
    from ray_patterns.limit_tasks import bounded_map as bounded_map
    from ray_patterns.map_reduce import map_reduce as map_reduce
    from ray_patterns.map_reduce import tree_reduce as tree_reduce
    from ray_patterns.overlapping_computation_communication import aprefetch as aprefetch
    from ray_patterns.overlapping_computation_communication import prefetch as prefetch
    from ray_patterns.submission_order import as_completed as as_completed
    from ray_patterns.too_many_results import iter_results as iter_results
    from ray_patterns.tree_of_actors import ChildFailedError as ChildFailedError
    from ray_patterns.tree_of_actors import Supervisor as Supervisor
    from ray_patterns.tree_of_actors import supervise as supervise
    from ray_patterns.tree_of_tasks import divide_and_conquer as divide_and_conquer
