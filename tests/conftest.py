"""One real local Ray for the whole session (num_cpus=2, like this machine).

Tests that need their own multi-node cluster use the ``ray_cluster`` fixture
below: it shuts the shared instance down, and ``ray_session`` brings it back
for whichever test asks next.
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


@pytest.fixture
def ray_cluster() -> Iterator[object]:
    """A fresh multi-node ``ray.cluster_utils.Cluster`` (head only; tests add nodes)."""
    from ray.cluster_utils import Cluster

    if ray.is_initialized():
        ray.shutdown()
    cluster = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 1, "include_dashboard": False},
    )
    ray.init(address=cluster.address, log_to_driver=False)
    try:
        yield cluster
    finally:
        ray.shutdown()
        cluster.shutdown()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if ray.is_initialized():
        ray.shutdown()
