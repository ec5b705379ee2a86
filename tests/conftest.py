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
