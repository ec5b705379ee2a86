"""Faults at cluster scale: a worker node is removed in the middle of each pattern.

One 3-node ``ray.cluster_utils.Cluster`` for the whole module (head without CPUs,
two worker nodes of 2 CPUs). In each test a worker node is removed while the
work runs, and a fresh one starts right after (while the work goes on: a node
start costs ~2 s, mostly waiting) so the next test has three nodes again. Every
item's result must arrive exactly once (or fail naming the item), and no
acknowledged checkpointed update may be lost. Each test prints its figures
(items, kills, progress at the kill) for the issue's closing note: run with -s.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
import ray

from ray_patterns import batched_map, bounded_map, checkpointed, map_reduce, supervise
from tests._helpers import ship_by_value

pytestmark = pytest.mark.cluster

WORKER_NODE = {"num_cpus": 2, "resources": {"worker": 1}}
PAUSE = 0.04  # seconds of work per item: long enough that the kill lands mid-run
T = TypeVar("T")

ship_by_value(__name__)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    from ray.cluster_utils import Cluster

    if ray.is_initialized():
        ray.shutdown()  # the shared session's Ray; tests/conftest.py brings it back
    c = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 0, "resources": {"head": 1}, "include_dashboard": False},
    )
    try:
        for _ in range(2):
            c.add_node(**WORKER_NODE)
        ray.init(address=c.address, log_to_driver=False)
        c.wait_for_nodes()
        yield c
    finally:
        ray.shutdown()
        c.shutdown()


@pytest.fixture(autouse=True)
def _three_nodes(cluster: Any) -> Iterator[None]:
    _refill(cluster)
    yield


class Progress:
    """Counts work done on any node: each call appends one byte to a shared file."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        Path(self.path).touch()

    def count(self) -> int:
        return os.path.getsize(self.path)


def _tick(path: str) -> None:
    with open(path, "ab") as fh:
        fh.write(b".")


def _remove_node(cluster: Any, pick: Callable[[], Any] | None = None) -> None:
    """Remove a worker node (``pick``'s, else any one)."""
    victim = pick() if pick is not None else next(iter(cluster.worker_nodes))
    cluster.remove_node(victim)


def _refill(cluster: Any) -> None:
    # from the main thread only: a starting node installs signal handlers
    while len(cluster.worker_nodes) < 2:
        cluster.add_node(**WORKER_NODE)
    cluster.wait_for_nodes()


def _with_node_loss(
    cluster: Any,
    progress: Progress,
    work: Callable[[Callable[[], None]], T],
    at: int | None = None,
    pick: Callable[[], Any] | None = None,
) -> tuple[T, int]:
    """Run ``work(kill_now)`` in a thread; remove a worker node (``pick``'s, else any)
    when ``at`` items are done or, without ``at``, when the work calls ``kill_now()``
    (which returns once the node is gone). Returns the work's result and the progress
    count at the kill.

    Node changes happen here, on the main thread (a starting node installs signal
    handlers); the replacement starts right after the kill, while the work goes on.
    """
    asked, removed = threading.Event(), threading.Event()

    def kill_now() -> None:
        asked.set()
        removed.wait(60)

    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(work, kill_now)
        try:
            deadline = time.monotonic() + 60
            while not (asked.is_set() if at is None else progress.count() >= at):
                if future.done() or time.monotonic() > deadline:
                    break
                time.sleep(0.005)
            killed_at = progress.count()
            _remove_node(cluster, pick)
        finally:
            removed.set()
        _refill(cluster)
        return future.result(timeout=120), killed_at


def _report(pattern: str, items: int, kills: int, at: int, losses: int) -> None:
    print(f"\nfault figures: {pattern}: items={items} kills={kills} killed_at={at} losses={losses}")


def test_bounded_map_delivers_every_item_once(cluster: Any, tmp_path: Path) -> None:
    progress = Progress(tmp_path / "p")

    def work(x: int) -> int:
        time.sleep(PAUSE)
        _tick(progress.path)
        return x + 1

    n = 48

    def consume(kill_now: Callable[[], None]) -> list[int]:
        out = []
        for i, value in enumerate(bounded_map(work, range(n), max_in_flight=8, ordered=True)):
            out.append(value)
            if i == 12:
                kill_now()
        return out

    out, killed_at = _with_node_loss(cluster, progress, consume)
    assert out == [x + 1 for x in range(n)]  # each item once, in its place
    assert killed_at < n  # the node went while items were still to run
    _report("bounded_map", n, 1, killed_at, n - len(out))


def test_batched_map_delivers_every_item_once(cluster: Any, tmp_path: Path) -> None:
    progress = Progress(tmp_path / "p")

    def work(x: int) -> int:
        time.sleep(PAUSE)
        _tick(progress.path)
        return 2 * x

    n = 64

    def consume(kill_now: Callable[[], None]) -> list[int]:
        out = []
        for i, value in enumerate(batched_map(work, range(n), batch_size=4, max_in_flight=4)):
            out.append(value)
            if i == 16:
                kill_now()
        return out

    out, killed_at = _with_node_loss(cluster, progress, consume)
    assert out == [2 * x for x in range(n)]
    assert killed_at < n
    _report("batched_map", n, 1, killed_at, n - len(out))


def test_map_reduce_result_is_exact(cluster: Any, tmp_path: Path) -> None:
    progress = Progress(tmp_path / "p")

    def work(x: int) -> list[int]:
        time.sleep(PAUSE)
        _tick(progress.path)
        return [x]

    def concat(parts: list[list[int]]) -> list[int]:
        return [x for part in parts for x in part]

    n = 64
    # a list reduce: a lost or doubled item shows, and so does one out of place
    out, killed_at = _with_node_loss(
        cluster,
        progress,
        lambda _: map_reduce(work, range(n), concat, batch_size=4, max_in_flight=4, fan_in=4),
        at=16,
    )
    assert killed_at < n
    assert out == list(range(n))
    _report("map_reduce", n, 1, killed_at, 0)


@ray.remote
class _Worker:
    def __init__(self, path: str) -> None:
        self.path = path

    def work(self, x: int) -> int:
        time.sleep(PAUSE)
        _tick(self.path)
        return x + 1


def test_supervise_scatter_delivers_every_item_once(cluster: Any, tmp_path: Path) -> None:
    progress = Progress(tmp_path / "p")
    sup = supervise(
        _Worker,
        4,
        progress.path,
        # half a CPU each, spread: the replacements fit on the node that is left
        worker_options={
            "num_cpus": 0.5,
            "resources": {"worker": 0.01},
            "scheduling_strategy": "SPREAD",
        },
        supervisor_options={"resources": {"head": 0.01}},  # the supervisor stays up
    )
    n = 48
    out, killed_at = _with_node_loss(
        cluster,
        progress,
        lambda _: ray.get(sup.scatter.remote("work", list(range(n))), timeout=120),
        at=12,
    )
    stats = ray.get(sup.stats.remote())
    assert killed_at < n
    assert out == [x + 1 for x in range(n)]
    assert sum(stats["replacements"]) >= 1  # the killed node's workers were replaced
    _report("supervise().scatter", n, 1, killed_at, 0)
    ray.kill(sup)


def test_checkpointed_actor_loses_no_acknowledged_update(cluster: Any, tmp_path: Path) -> None:
    progress = Progress(tmp_path / "p")

    @checkpointed(str(tmp_path / "ckpt"))
    class Counter:
        def __init__(self) -> None:
            self.n = 0

        def increment(self) -> int:
            time.sleep(PAUSE / 4)
            self.n += 1
            _tick(progress.path)
            return self.n

        def value(self) -> int:
            return self.n

    counter = Counter.options(num_cpus=0, resources={"worker": 0.01}).remote()
    home = ray.get(counter._checkpoint_info.remote())["node_id"]

    def pick() -> Any:
        return next(n for n in cluster.worker_nodes if n.node_id == home)

    n = 80
    refs = [counter.increment.remote(_idempotency_key=f"op-{i}") for i in range(n)]
    acked, killed_at = _with_node_loss(
        cluster, progress, lambda _: ray.get(refs, timeout=120), at=25, pick=pick
    )
    info = ray.get(counter._checkpoint_info.remote())
    assert killed_at < n
    assert info["node_id"] != home and info["restored_from"] is not None  # it really moved
    # every call acknowledged exactly once, and the state holds all of them
    assert sorted(acked) == list(range(1, n + 1))
    assert ray.get(counter.value.remote()) == n
    _report("checkpointed actor", n, 1, killed_at, n - len(set(acked)))
    ray.kill(counter)
