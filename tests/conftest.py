"""One real local Ray for the whole session (num_cpus=2, like this machine).

Tests that need a multi-node cluster start their own (module-scoped) after
``ray.shutdown()``; ``ray_session`` brings the shared instance back for whichever
test asks next.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import ray

os.environ.setdefault("RAY_DEDUP_LOGS", "0")
# workers send task events every 0.1 s, not 1 s: each doctor report (every example
# runs under the doctor) is ready that much sooner after its block ends
os.environ.setdefault("RAY_task_events_report_interval_ms", "100")


def _start_local() -> None:
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        object_store_memory=1 << 30,
    )


@pytest.fixture
def ray_session() -> Iterator[None]:
    """A running local Ray; started once and shared by every test that asks."""
    if not ray.is_initialized():
        _start_local()
    yield


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if ray.is_initialized():
        ray.shutdown()


def _order(item: pytest.Item) -> int:
    """Where a test runs: the shared local Ray's tests first; then those on the doctor's
    ``ray start`` cluster (session-scoped, so it idles on the 2 cores from its first
    user to the end: last, it idles the least); last the in-process clusters, whose
    ``ray.shutdown()`` of the shared Ray would otherwise cost a restart (~6 s)."""
    if item.get_closest_marker("cluster") is None:
        return 0
    return 1 if "ray_start_cluster" in getattr(item, "fixturenames", ()) else 2


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_order)  # stable: each group keeps its modules' order
