"""fault-tolerance-actor-checkpointing: checkpointed actors, SIGKILLed on a real Ray."""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path
from typing import Any

import pytest
import ray

from ray_patterns._checkpoint_format import encode
from ray_patterns._checkpoint_runtime import wrap_method
from ray_patterns.fault_tolerance_actor_checkpointing import (
    CheckpointError,
    CheckpointWarning,
    FsspecStore,
    KVStore,
    checkpointed,
    is_checkpointed,
    load_latest,
    open_store,
    readonly,
)


def _make_counter(store: Any, **kw: Any) -> Any:
    @checkpointed(store, **kw)
    class Counter:
        def __init__(self, start: int = 0) -> None:
            self.n = start

        def increment(self, by: int = 1) -> int:
            self.n += by
            return self.n

        def value(self) -> int:
            return self.n

    return Counter


def _kill(actor: Any) -> int:
    pid = ray.get(actor._checkpoint_info.remote())["pid"]
    os.kill(pid, signal.SIGKILL)
    return int(pid)


# -- the store, without Ray ---------------------------------------------------


def test_store_keeps_the_last_checkpoints_and_falls_back_past_a_corrupt_one(
    tmp_path: Path,
) -> None:
    store = FsspecStore(tmp_path)
    for seq in (1, 2, 3):
        store.write("k", seq, encode({"state": {"n": seq}}))
    assert [s for s, _ in store.list("k")] == [1, 2, 3]
    latest = load_latest(store, "k")
    assert latest is not None and latest.record["state"] == {"n": 3}

    path3 = tmp_path / "k" / "ckpt-000000000003.bin"
    path3.write_bytes(path3.read_bytes()[:-5])  # truncated
    with pytest.warns(CheckpointWarning, match="ckpt-000000000003.bin.*truncated"):
        latest = load_latest(store, "k")
    assert latest is not None and latest.seq == 2 and latest.skipped == [str(path3)]

    path2 = tmp_path / "k" / "ckpt-000000000002.bin"
    blob = bytearray(path2.read_bytes())
    blob[-1] ^= 0xFF  # same length, one bit flipped
    path2.write_bytes(bytes(blob))
    with pytest.warns(CheckpointWarning) as caught:
        latest = load_latest(store, "k")
    messages = [str(w.message) for w in caught]
    assert len(messages) == 2 and "ckpt-000000000003.bin" in messages[0]
    assert "ckpt-000000000002.bin" in messages[1] and "checksum" in messages[1]
    assert latest is not None and latest.record["state"] == {"n": 1}
    assert not list((tmp_path / "k").glob(".tmp-*"))  # no temporary files left


def test_a_failed_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    store = FsspecStore(tmp_path)
    with pytest.raises(TypeError):
        store.write("k", 1, 42)  # type: ignore[arg-type]  # not bytes: fails after the open
    assert store.list("k") == [] and not list((tmp_path / "k").glob(".tmp-*"))


def test_fsspec_urls_and_kv_limit() -> None:
    mem = open_store("memory://ckpt-test")
    mem.write("a/b", 7, encode({"state": 1}))
    assert mem.list("a/b")[0][0] == 7
    mem.delete("a/b", 7)
    assert mem.list("a/b") == []
    assert isinstance(open_store("ray-kv://myns"), KVStore)
    assert open_store("ray-kv://myns").namespace == "myns"
    with pytest.raises(CheckpointError, match="exceeds the KV store limit.*shared directory"):
        KVStore(max_bytes=1000).write("k", 1, b"x" * 2000)
    # The default limit is Ray's gRPC message size (512 MiB) minus headroom.
    assert 500 * 2**20 < KVStore().max_bytes < 512 * 2**20
    with pytest.raises(ValueError, match="relative"):
        mem.write("../up", 1, b"")
    with pytest.raises(TypeError, match="store must be"):
        open_store(42)


def test_decorator_arguments_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="every must be"):
        checkpointed(tmp_path, every=0)
    with pytest.raises(ValueError, match="not neither"):
        checkpointed(tmp_path, every=None)
    with pytest.raises(ValueError, match="keep must be"):
        checkpointed(tmp_path, keep=0)
    counter = _make_counter(tmp_path)
    assert is_checkpointed(counter) and not is_checkpointed(int)
    assert counter._default_options["max_restarts"] == -1
    assert counter._default_options["max_task_retries"] == -1
    with pytest.raises(TypeError, match="already checkpointed"):
        checkpointed(tmp_path)(counter)


# -- on Ray -------------------------------------------------------------------


def test_state_survives_sigkill(ray_session: None, tmp_path: Path) -> None:
    counter = _make_counter(tmp_path).options(num_cpus=0).remote(10)
    assert ray.get([counter.increment.remote() for _ in range(5)])[-1] == 15
    old = _kill(counter)
    assert ray.get(counter.increment.remote()) == 16  # restored 15, then +1
    info = ray.get(counter._checkpoint_info.remote())
    assert info["pid"] != old and info["reconstructed"] is True
    assert info["restored_from"].endswith("ckpt-000000000005.bin")
    assert len(list((tmp_path / info["key"]).glob("ckpt-*.bin"))) == 2  # keep=2
    ray.kill(counter)


def test_readonly_methods_write_no_checkpoint(ray_session: None, tmp_path: Path) -> None:
    @checkpointed(tmp_path)
    class Box:
        def __init__(self) -> None:
            self.v = 0

        def put(self, v: int) -> None:
            self.v = v

        @readonly
        def peek(self) -> int:
            return self.v

    box = Box.options(num_cpus=0).remote()
    ray.get(box.put.remote(3))
    assert ray.get([box.peek.remote() for _ in range(5)]) == [3] * 5
    assert ray.get(box._checkpoint_info.remote())["saves"] == 1
    ray.kill(box)


def test_get_state_set_state_and_kv_store(ray_session: None) -> None:
    @checkpointed(KVStore(namespace="rp-test"), every=1)
    class Log:
        def __init__(self) -> None:
            self.items: list[str] = []
            self.cache = object()  # not part of the state

        def get_state(self) -> list[str]:
            return self.items

        def set_state(self, state: list[str]) -> None:
            self.items = list(state)

        def add(self, item: str) -> int:
            self.items.append(item)
            return len(self.items)

        def all(self) -> list[str]:
            return self.items

    log = Log.options(num_cpus=0).remote()
    ray.get([log.add.remote(x) for x in "abc"])
    _kill(log)
    assert ray.get(log.all.remote()) == ["a", "b", "c"]
    assert ray.get(log._checkpoint_info.remote())["restored_from"].startswith("ray-kv://rp-test/")
    ray.kill(log)


def test_every_n_calls_loses_calls_since_the_last_checkpoint(
    ray_session: None, tmp_path: Path
) -> None:
    counter = _make_counter(tmp_path, every=3).options(num_cpus=0).remote()
    ray.get([counter.increment.remote() for _ in range(4)])  # checkpoint after call 3
    _kill(counter)
    assert ray.get(counter.value.remote()) == 3  # the documented price of every > 1
    ray.kill(counter)


def test_corrupt_latest_checkpoint_falls_back_on_restart(ray_session: None, tmp_path: Path) -> None:
    counter = _make_counter(tmp_path).options(num_cpus=0).remote()
    ray.get([counter.increment.remote() for _ in range(3)])  # checkpoints n=1, 2, 3
    info = ray.get(counter._checkpoint_info.remote())  # private: no checkpoint
    latest = sorted((tmp_path / info["key"]).glob("ckpt-*.bin"))[-1]
    latest.write_bytes(latest.read_bytes()[:20])
    _kill(counter)
    # The previous checkpoint (n=2) is restored: corruption costs the last call.
    assert ray.get(counter.value.remote()) == 2
    info = ray.get(counter._checkpoint_info.remote())
    assert info["skipped"] == [str(latest)]
    ray.kill(counter)


def test_1000_increments_20_sigkills_exactly_once(ray_session: None, tmp_path: Path) -> None:
    """Every acknowledged call is in the state, and (with keys) none is applied twice."""
    rng = random.Random(1234)
    counter = _make_counter(tmp_path).options(num_cpus=0).remote()
    refs: list[Any] = []
    pids = set()
    for chunk in range(20):
        pid = ray.get(counter._checkpoint_info.remote())["pid"]
        pids.add(pid)
        for i in range(50):
            key = f"inc-{chunk}-{i}"
            refs.append(counter.increment.remote(_idempotency_key=key))
        time.sleep(rng.uniform(0.0, 0.05))  # kill at a random point in the chunk
        os.kill(pid, signal.SIGKILL)
    acknowledged = ray.get(refs, timeout=240)
    assert len(acknowledged) == 1000
    assert ray.get(counter.value.remote()) == 1000
    # Each call returned the counter after it: with exactly-once the values are a
    # permutation of 1..1000 (Ray may run retried calls out of order).
    assert sorted(acknowledged) == list(range(1, 1001))
    assert len(pids) == 20  # every kill hit a fresh process
    ray.kill(counter)


def test_without_keys_acknowledged_calls_are_never_lost(ray_session: None, tmp_path: Path) -> None:
    counter = _make_counter(tmp_path).options(num_cpus=0).remote()
    refs = []
    for _ in range(3):
        pid = ray.get(counter._checkpoint_info.remote())["pid"]
        refs += [counter.increment.remote() for _ in range(30)]
        time.sleep(0.02)
        os.kill(pid, signal.SIGKILL)
    acked = ray.get(refs, timeout=120)
    final = ray.get(counter.value.remote())
    assert final >= len(acked) == 90  # at-least-once: a retry may apply a call twice
    assert final == max(acked)
    ray.kill(counter)


def test_resume_under_an_explicit_key(ray_session: None, tmp_path: Path) -> None:
    cls = _make_counter(tmp_path)
    first = cls.options(num_cpus=0).remote(_checkpoint_key="job/counter")
    ray.get([first.increment.remote(5), first.increment.remote(2)])
    ray.kill(first)
    second = cls.options(num_cpus=0).remote(_checkpoint_key="job/counter", _resume=True)
    assert ray.get(second.value.remote()) == 7
    fresh = cls.options(num_cpus=0).remote(_checkpoint_key="job/counter")
    assert ray.get(fresh.value.remote()) == 0  # no _resume: a new start
    for a in (second, fresh):
        ray.kill(a)


# Moving to another node with the state (a node removed under the actor, every
# acknowledged update kept) is tested on the 3-node cluster of tests/test_faults_cluster.py.


def test_ray_method_options_survive_the_wrapping() -> None:
    @ray.method(max_task_retries=0, num_returns=2)
    def pair(self):  # type: ignore[no-untyped-def]
        return 1, 2

    wrapped = wrap_method(pair, 10)
    assert wrapped.__ray_max_task_retries__ == 0  # type: ignore[attr-defined]
    assert wrapped.__ray_num_returns__ == 2  # type: ignore[attr-defined]
