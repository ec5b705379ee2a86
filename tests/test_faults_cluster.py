"""Faults at cluster scale: a worker node is removed in the middle of each pattern.

One 3-node ``ray.cluster_utils.Cluster`` for the whole module (head without CPUs,
two worker nodes of 2 CPUs). In each test a worker node is removed while the
work runs, and a fresh one joins so the next test has three nodes again. Every
item's result must arrive exactly once (or fail naming the item), and no
acknowledged checkpointed update may be lost. Each test prints its figures
(items, kills, progress at the kill) for the issue's closing note: run with -s.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import ray

from ray_patterns import batched_map, bounded_map, checkpointed, map_reduce, supervise

pytestmark = pytest.mark.cluster

WORKER_NODE = {"num_cpus": 2, "resources": {"worker": 1}}
PAUSE = 0.04  # seconds of work per item: long enough that the kill lands mid-run


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


def _kill_when(
    cluster: Any, progress: Progress, at: int, pick: Callable[[], Any] | None = None
) -> tuple[threading.Thread, dict[str, int]]:
    seen: dict[str, int] = {}

    def run() -> None:
        deadline = time.monotonic() + 60
        while progress.count() < at and time.monotonic() < deadline:
            time.sleep(0.005)
        seen["at"] = progress.count()
        _remove_node(cluster, pick)
        seen["killed"] = 1

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, seen


def _report(pattern: str, items: int, kills: int, at: int, losses: int) -> None:
    print(f"\nfault figures: {pattern}: items={items} kills={kills} killed_at={at} losses={losses}")


def test_bounded_map_delivers_every_item_once(cluster: Any, tmp_path: Path) -> None:
    progress = Progress(tmp_path / "p")

    def work(x: int) -> int:
        time.sleep(PAUSE)
        _tick(progress.path)
        return x + 1

    n, out, killed_at = 48, [], -1
    for i, value in enumerate(bounded_map(work, range(n), max_in_flight=8, ordered=True)):
        out.append(value)
        if i == 12:
            killed_at = progress.count()
            _remove_node(cluster)
    assert out == [x + 1 for x in range(n)]  # each item once, in its place
    assert killed_at < n  # the node went while items were still to run
    _report("bounded_map", n, 1, killed_at, n - len(out))


def test_batched_map_delivers_every_item_once(cluster: Any, tmp_path: Path) -> None:
    progress = Progress(tmp_path / "p")

    def work(x: int) -> int:
        time.sleep(PAUSE)
        _tick(progress.path)
        return 2 * x

    n, out, killed_at = 64, [], -1
    for i, value in enumerate(batched_map(work, range(n), batch_size=4, max_in_flight=4)):
        out.append(value)
        if i == 16:
            killed_at = progress.count()
            _remove_node(cluster)
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
    thread, seen = _kill_when(cluster, progress, at=16)
    # a list reduce: a lost or doubled item shows, and so does one out of place
    out = map_reduce(work, range(n), concat, batch_size=4, max_in_flight=4, fan_in=4)
    thread.join(timeout=60)
    assert seen.get("killed") == 1 and seen["at"] < n
    assert out == list(range(n))
    _report("map_reduce", n, 1, seen["at"], 0)


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
    thread, seen = _kill_when(cluster, progress, at=12)
    out = ray.get(sup.scatter.remote("work", list(range(n))), timeout=120)
    thread.join(timeout=60)
    stats = ray.get(sup.stats.remote())
    assert seen.get("killed") == 1 and seen["at"] < n
    assert out == [x + 1 for x in range(n)]
    assert sum(stats["replacements"]) >= 1  # the killed node's workers were replaced
    _report("supervise().scatter", n, 1, seen["at"], 0)
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
    thread, seen = _kill_when(cluster, progress, at=25, pick=pick)
    refs = [counter.increment.remote(_idempotency_key=f"op-{i}") for i in range(n)]
    acked = ray.get(refs, timeout=120)
    thread.join(timeout=60)
    info = ray.get(counter._checkpoint_info.remote())
    assert seen.get("killed") == 1 and seen["at"] < n
    assert info["node_id"] != home and info["restored_from"] is not None  # it really moved
    # every call acknowledged exactly once, and the state holds all of them
    assert sorted(acked) == list(range(1, n + 1))
    assert ray.get(counter.value.remote()) == n
    _report("checkpointed actor", n, 1, seen["at"], n - len(set(acked)))
    ray.kill(counter)
