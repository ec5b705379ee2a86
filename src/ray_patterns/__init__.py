"""ray-patterns: the Ray design-patterns handbook as software.

Each public name implements one handbook page (its slug in the module name).
"""

from __future__ import annotations

# -- result flow (issue 2) ------------------------------------------------
from ray_patterns.fine_grained_tasks import batched_map
from ray_patterns.limit_tasks import bounded_map
from ray_patterns.map_reduce import map_reduce, tree_reduce
from ray_patterns.submission_order import as_completed
from ray_patterns.too_many_results import iter_results
from ray_patterns.tree_of_tasks import divide_and_conquer

# -- actor patterns (issue 3) ---------------------------------------------
# isort: split
from ray_patterns.concurrent_operations_async_actor import PollingActor, run_blocking
from ray_patterns.fault_tolerance_actor_checkpointing import KVStore, checkpointed, readonly
from ray_patterns.global_variables import SharedState, shared_state
from ray_patterns.overlapping_computation_communication import aprefetch, prefetch
from ray_patterns.tree_of_actors import ChildFailedError, Supervisor, supervise

__version__ = "0.1.0"

__all__ = [
    "ChildFailedError",
    "KVStore",
    "PollingActor",
    "SharedState",
    "Supervisor",
    "aprefetch",
    "checkpointed",
    "prefetch",
    "readonly",
    "run_blocking",
    "shared_state",
    "supervise",
    "as_completed",
    "batched_map",
    "bounded_map",
    "divide_and_conquer",
    "iter_results",
    "map_reduce",
    "tree_reduce",
]
