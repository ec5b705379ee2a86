"""limit-running-tasks: tasks that each fill much of a node's memory, with and without memory=.

The variants run on a Ray of their own, "the lab": a child process starts it once
(never a second Ray in the bench's process) and stops it after the last variant. The
lab stands for a small node that holds one such task but has CPUs for two: 2 CPUs,
Ray's kill threshold (``RAY_memory_usage_threshold``) ``BUDGET`` above what the node
uses with the lab up, its ``memory`` resource the same ``BUDGET``, and the memory
monitor's kill buffer scaled like it (5% of that memory, as Ray takes 5% of a node's).
Before each run the lab's driver holds ballast so that the headroom under the
threshold is ``BUDGET`` whatever the node freed or took meanwhile. Each task fills
60% of ``BUDGET`` and holds it a moment, so one task fits with room to spare and two
do not.

- anti: no ``memory=``, one task per CPU: two run at once, the monitor kills the
  newer (``OutOfMemoryError`` inside Ray) and Ray retries it, again and again.
- by hand: ``memory=`` the task's heap plus a worker's footprint: one runs at a time.
- library: ``memory_map`` measures the first task's peak and requests that.

Figures per run: ``killed`` (the raylet's "Selected to kill" records), ``retried``
(task starts beyond one per task, each start counted in a file), ``finished`` (1 when every
result came back within the timeout) and ``node_peak_mib`` (the node's used memory,
as Ray's monitor reads it, over the run's start; sampled every 10 ms). The node never
goes more than about ``BUDGET`` + the lab's own Ray (~0.4 GiB) over its use at start:
the monitor's kills bound it.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from typing import Any

import numpy as np
import psutil
import ray

from ray_patterns.bench.core import Case, CaseResult, Extra, Variant, sampling

MIB = 1 << 20
GIB = 1 << 30
#: how far above the node's use (with the lab's Ray up) the kill threshold sits
BUDGET = 1.5 * GIB
#: at most what the lab's own Ray processes add to the node (measured: 0.2-0.58 GiB here);
#: what they leave of it the lab holds as ballast, so the headroom is BUDGET (see calibrate)
LAB_RAY = int(0.6 * GIB)
CHUNK = 64 * MIB  # ballast unit: above glibc's largest mmap threshold, so freed at once
#: what a Ray worker takes besides a task's data (stated by hand, as a user would)
WORKER = 150 * MIB
HOLD_S = 0.3
SIZES = {True: 3, False: 8}  # tasks per run: quick, full


def _node_used() -> int:
    """The node's used memory as Ray's monitor reads it: total minus available."""
    vm = psutil.virtual_memory()
    return int(vm.total - vm.available)


def fill(i: int, nbytes: int, starts: str) -> int:
    """Count this start (a byte appended to the file ``starts``: no actor, so no extra
    worker process), fill ``nbytes`` of heap, hold it a moment, return a checksum."""
    with open(starts, "ab") as fh:
        fh.write(b".")
    block = np.ones(nbytes // 8, dtype=np.int64)
    time.sleep(HOLD_S)
    return int(block[i % len(block)]) + i


fill_task = ray.remote(fill)


def _warm_workers(temp_dir: str) -> None:
    """Two workers up and idle, so that both tasks of a run start at once."""
    warm = os.path.join(temp_dir, "warm-up")
    ray.get([fill_task.remote(0, 8 * MIB, warm) for _ in range(2)])


def _kill_records(log: str) -> int:
    try:
        with open(log, errors="replace") as fh:
            return sum(line.startswith("Selected to kill:") for line in fh)
    except OSError:
        return 0


_ballast: list[np.ndarray] = []


def calibrate(threshold: int) -> int:
    """Hold (or drop) ballast in the lab's driver until the headroom under Ray's kill
    threshold is ``BUDGET`` (within a chunk); the headroom. Memory the node freed or
    took since the threshold was set (other processes, Ray's start) is made up for."""
    for _ in range(200):
        headroom = threshold - _node_used()
        if headroom > BUDGET + CHUNK:
            _ballast.append(np.ones(CHUNK // 8))
        elif headroom < BUDGET - CHUNK and _ballast:
            _ballast.pop()
        else:
            break
    return headroom


def _run(role: str, n: int, setup: dict[str, Any], timeout: float) -> Extra:
    from ray_patterns import memory_map

    nbytes, log = setup["task_bytes"], os.path.join(setup["log_dir"], "raylet.out")
    fd, starts = tempfile.mkstemp(prefix="starts-", dir=setup["temp_dir"])
    os.close(fd)
    # untimed: a worker the last run's kill took is replaced ~1 s late, and tasks
    # started that far apart take turns and never meet (0 kills in 3 of 4 full runs)
    _warm_workers(setup["temp_dir"])
    headroom = calibrate(setup["threshold_bytes"])
    began = time.perf_counter()
    killed0 = _kill_records(log)
    base = _node_used()
    peak = [base]

    def sample() -> None:
        peak[0] = max(peak[0], _node_used())

    finished, results = True, []
    try:
        with sampling(sample, 0.01):
            if role == "library":

                def work(i: int) -> int:
                    return fill(i, nbytes, starts)

                results = sorted(memory_map(work, range(n), timeout=timeout))
            else:
                task = fill_task
                if role == "better":
                    task = fill_task.options(memory=nbytes + WORKER)
                refs = [task.remote(i, nbytes, starts) for i in range(n)]
                try:
                    results = sorted(ray.get(refs, timeout=timeout))
                except ray.exceptions.GetTimeoutError:
                    finished = False
                    for ref in refs:
                        ray.cancel(ref, force=True)
    except TimeoutError:
        finished = False
    if finished and results != [1 + i for i in range(n)]:
        raise AssertionError(f"{role}: wrong results {results}")
    seconds = time.perf_counter() - began
    time.sleep(0.2)  # the raylet writes its kill records a moment after the kill
    return {
        "seconds": seconds,  # the run's own time, not the warm-up's or this wait's
        "killed": float(_kill_records(log) - killed0),
        "retried": float(os.path.getsize(starts) - n),
        "finished": float(finished),
        "node_peak_mib": (peak[0] - base) / MIB,
        "headroom_mib": headroom / MIB,
    }


def _lab_child(fd: int, temp_dir: str) -> None:
    """The lab process: start a small-node Ray, then run variants until told to stop."""
    conn = Connection(fd)
    out = os.open(os.path.join(temp_dir, "lab.log"), os.O_WRONLY | os.O_CREAT)
    os.dup2(out, 1)  # Ray's kill reports and worker logs are not the bench's output
    os.dup2(out, 2)
    threshold = _node_used() + LAB_RAY + BUDGET
    total = psutil.virtual_memory().total
    os.environ.pop("RAY_ADDRESS", None)
    os.environ.update(
        RAY_memory_usage_threshold=f"{threshold / total:.6f}",
        RAY_memory_monitor_refresh_ms="50",
        RAY_max_kill_memory_buffer_bytes=str(int(0.05 * BUDGET)),
    )
    began = time.perf_counter()
    try:
        ray.init(
            address="local",
            num_cpus=2,
            _memory=int(BUDGET),
            object_store_memory=100 * MIB,
            include_dashboard=False,
            log_to_driver=False,
            _temp_dir=temp_dir,
        )
        init_s = time.perf_counter() - began
        _warm_workers(temp_dir)
        headroom = calibrate(threshold)
        if headroom < BUDGET / 2:
            raise RuntimeError(
                f"the node's memory use grew by {(BUDGET - headroom) / MIB:.0f} MiB more than "
                "expected while the lab's Ray started: run the case on a quieter machine"
            )
    except Exception as exc:  # the bench says why, instead of waiting for a lab that is gone
        conn.send(exc)
        ray.shutdown()
        return
    setup = {
        "init_s": init_s,
        "warm_s": time.perf_counter() - began - init_s,
        "task_bytes": int(0.6 * BUDGET),
        "threshold_bytes": threshold,
        "headroom_bytes": headroom,
        "memory_bytes": int(BUDGET),
        "log_dir": os.path.join(temp_dir, "session_latest", "logs"),
        "temp_dir": temp_dir,
    }
    try:
        conn.send(setup)
        while True:
            try:
                message = conn.recv()
            except EOFError:
                break
            if message is None:
                break
            role, n, timeout = message
            try:
                conn.send(_run(role, n, setup, timeout))
            except Exception as exc:
                conn.send(exc)
    finally:
        ray.shutdown()


class Lab:
    """The child process that runs the variants on its own small-node Ray.

    A plain subprocess (not ``multiprocessing``'s spawn, which re-runs the caller's
    main module), talking over a socket pair.
    """

    def __init__(self) -> None:
        began = time.perf_counter()
        self.temp_dir = tempfile.mkdtemp(prefix="rp-lab-")
        mine, theirs = socket.socketpair()
        fd = theirs.fileno()
        code = f"from {__name__} import _lab_child; _lab_child({fd}, {self.temp_dir!r})"
        self.process = subprocess.Popen(
            [sys.executable, "-c", code],
            pass_fds=[fd],
            stdin=subprocess.DEVNULL,
        )
        theirs.close()
        self.conn = Connection(mine.detach())
        try:
            if not self.conn.poll(120):
                raise TimeoutError("the lab's Ray did not start within 120 s")
            reply = self.conn.recv()
            if isinstance(reply, Exception):
                raise reply
            self.setup: dict[str, Any] = reply
            self.setup["start_s"] = time.perf_counter() - began
        except BaseException:
            self.close()
            raise

    def run(self, role: str, n: int, timeout: float) -> Extra:
        self.conn.send((role, n, timeout))
        if not self.conn.poll(timeout + 60):
            raise TimeoutError(f"the lab did not answer within {timeout + 60:.0f} s")
        reply = self.conn.recv()
        if isinstance(reply, Exception):
            raise reply
        return reply  # type: ignore[no-any-return]

    def close(self) -> None:
        """Stop the lab's Ray; what does not stop in 30 s is killed (only the lab's processes)."""
        try:
            lab = psutil.Process(self.process.pid)
            family = [lab, *lab.children(recursive=True)]
        except (psutil.Error, ValueError):
            family = []
        with contextlib.suppress(OSError, ValueError):
            self.conn.send(None)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(30)
        for proc in family:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        self.conn.close()
        shutil.rmtree(self.temp_dir, ignore_errors=True)


_lab: list[Lab] = []
_failed: list[str] = []  # why the lab did not start, for every variant of this run to say


def lab() -> Lab:
    """The one lab of this bench run, started on first use."""
    if _failed:
        raise RuntimeError(f"the lab's Ray did not start: {_failed[0]}")
    if not _lab:
        _lab.append(Lab())
        atexit.register(stop_lab)
    return _lab[0]


def stop_lab() -> None:
    while _lab:
        _lab.pop().close()


def start_lab() -> None:
    """The case's setup: the lab's Ray starts before the timed runs (a failure is each
    variant's error, not the whole bench's)."""
    _failed.clear()
    try:
        lab()
    except Exception as exc:
        _failed.append(f"{type(exc).__name__}: {exc}")


def variants(quick: bool, n: int | None = None) -> list[Variant]:
    """The three variants, ``n`` tasks a run (default: ``SIZES[quick]``)."""
    n = n or SIZES[quick]
    timeout = 30.0 if quick else 90.0
    return [
        Variant("one task per CPU, no memory=", "anti", lambda: lab().run("anti", n, timeout)),
        Variant("memory= stated by hand", "better", lambda: lab().run("better", n, timeout)),
        Variant("memory_map (measured)", "library", lambda: lab().run("library", n, timeout)),
    ]


def figures(quick: bool) -> dict[str, float]:
    """The lab's sizes; called once after the last variant, so it also stops the lab."""
    if not _lab:
        return {}
    try:
        setup = _lab[0].setup
        return {
            "task_mib": setup["task_bytes"] / MIB,
            "headroom_mib": setup["headroom_bytes"] / MIB,
            "memory_resource_mib": setup["memory_bytes"] / MIB,
            "lab_start_s": setup["start_s"],  # not in any variant's time
        }
    finally:
        stop_lab()


def _totals(res: CaseResult, role: str) -> tuple[int, int, bool, float] | None:
    """(kills, retries, every run finished, median seconds) of a role over its runs."""
    v = res.by_role(role)  # type: ignore[arg-type]
    if v is None:
        return None
    return (
        round(sum(e.get("killed", 0.0) for e in v.extras)),
        round(sum(e.get("retried", 0.0) for e in v.extras)),
        all(e.get("finished", 0.0) == 1.0 for e in v.extras),
        v.extra_median("seconds"),
    )


def _tasks(k: int) -> str:
    return f"{k} task{'' if k == 1 else 's'}"


def verdict(res: CaseResult) -> str:
    """Kills and retries first (summed over the runs), then whether it finished, then time.

    ``"anti-pattern: 5 tasks killed for memory, 5 retried (2 runs), 1.4x by hand's time;
    by hand: none killed; library: none killed, 1.02x by hand's time"``
    """
    anti, hand = _totals(res, "anti"), _totals(res, "better")
    if anti is None:
        return "anti-pattern: no figure"
    runs = len(res.by_role("anti").extras)  # type: ignore[union-attr]
    killed, retried, done, secs = anti
    where = f"{runs} run{'' if runs == 1 else 's'}"
    if killed == 0 and retried == 0:
        said = f"anti-pattern NOT killed here (0 kills, {where})"
    else:
        said = f"anti-pattern: {_tasks(killed)} killed for memory, {retried} retried ({where})"
    if not done:
        said += ", did NOT finish in time"
    elif hand is not None and hand[3]:
        said += f", {secs / hand[3]:.1f}x by hand's time"
    parts = [said]
    for role, who in (("better", "by hand"), ("library", "library")):
        got = _totals(res, role)
        if got is None:
            parts.append(f"{who}: no figure")
            continue
        k, r, d, s = got
        said = "none killed" if k == 0 and r == 0 else f"{_tasks(k)} killed, {r} retried"
        if not d:
            said += ", did NOT finish"
        elif role == "library" and hand is not None and hand[3]:
            said += f", {s / hand[3]:.2f}x by hand's time"
        parts.append(f"{who}: {said}")
    return "; ".join(parts)


CASE = Case(
    "limit-running-tasks",
    f"{SIZES[False]} tasks (quick: {SIZES[True]}) each filling 60% of a 1.5 GiB node, 2 CPUs: "
    "tasks killed by the memory monitor",
    variants,
    metric="killed",
    kind="correctness",
    correct="killed",
    label="tasks killed",
    verdict=verdict,
    setup=start_lab,
    # 4 runs: one run of 8 tasks (~4.5 s) moves by about 10% on this machine, and a
    # median of 2 put library/by hand at 0.89x and 1.13x for the same code (6
    # interleaved runs each: 0.99x)
    repeats=(1, 4),
    figures=figures,
)
