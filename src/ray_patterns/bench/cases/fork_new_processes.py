"""fork-new-processes: Pool children that use Ray, forked from a Ray task, vs spawned.

Correctness, not speed. A task sums the rows of a table it holds in the object store
with a ``multiprocessing`` Pool of 2:

- anti: a fork-started Pool whose children ``ray.get`` the table, one row each. A
  forked child is a copy of the Ray worker and talks to the object store over the
  worker's own socket, both children at once: the store reads interleaved messages
  and Ray ends the node (the raylet's "Invalid Plasma message type ... process
  forking" check), or a child's read fails.
- fixed: the task does the Ray work (one ``ray.get``) and a spawn-started Pool gets
  plain rows: its children are fresh interpreters with nothing of Ray in them. It
  runs on the bench's own Ray, as a user's program would.

A broken node must not be the bench's: every anti run is a "trial", a subprocess in a
session of its own with a Ray of its own (2 CPUs, its own temp dir) that prints its
outcome; afterwards the bench kills every process left in the trial's session (also
workers a dead raylet left behind). Figures per run: ``ok`` 1 when the right sums
came back in time; ``hung`` 1 when no result came in time (the trial killed,
``killed_after_s``); ``crashed`` 1 when the task, a child, a worker or the node
failed, and ``raylet_died`` 1 when that was the node's raylet.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import psutil
import ray

from ray_patterns.bench.core import Case, CaseResult, Extra, Variant

ROWS = 64  # 64 reads over one socket from two children: interleaved in every run seen
MARK = "fork-trial: "  # the trial's answer, among whatever else reaches its stdout
#: each forked child's handle on the table, from the Pool's initializer
_table: list[ray.ObjectRef] = []


def _keep(table: list[ray.ObjectRef]) -> None:
    _table[:] = table


def _row_through_ray(i: int) -> float:
    """In a forked child: a read through the Ray worker's copied connection."""
    return float(ray.get(_table[0])[i].sum())


def _row_sum(row: np.ndarray) -> float:
    return float(row.sum())


def _make_table() -> np.ndarray:
    return np.arange(ROWS * 1024, dtype=np.float64).reshape(ROWS, 1024)


def _sums_right(got: list[float], table: np.ndarray) -> bool:
    return got == [_row_sum(row) for row in table]


@ray.remote(max_retries=0)
def rows_fork(table: list[ray.ObjectRef]) -> list[float]:
    # forked children inherit the initializer's arguments in memory: the very ref
    with multiprocessing.get_context("fork").Pool(2, _keep, (table,)) as pool:
        return pool.map(_row_through_ray, range(ROWS))


@ray.remote(max_retries=0)
def rows_spawn(table: list[ray.ObjectRef]) -> list[float]:
    rows = ray.get(table[0])  # the Ray work in the task; the children get plain rows
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        return pool.map(_row_sum, list(rows))


def _trial(timeout: float, temp_dir: str) -> None:
    """One run on a Ray of its own; prints MARK and ``{"outcome": ...}``."""
    outcome = "crashed"
    try:
        ray.init(
            address="local",
            num_cpus=2,
            object_store_memory=100 << 20,
            include_dashboard=False,
            log_to_driver=False,
            _temp_dir=temp_dir,
        )
        table = _make_table()
        got = ray.get(rows_fork.remote([ray.put(table)]), timeout=timeout)
        outcome = "ok" if _sums_right(got, table) else "wrong"
    except ray.exceptions.GetTimeoutError:
        outcome = "hung"
    except Exception:  # the anti-pattern's outcome, whatever Ray raises: crashed
        pass
    print(MARK + json.dumps({"outcome": outcome}), flush=True)
    _end_session(os.getpid())  # no ray.shutdown through a broken node
    os._exit(0)


def _raylet_check(temp_dir: str) -> str:
    """The raylet's fatal check message, when the trial's node ended with one."""
    log = os.path.join(temp_dir, "session_latest", "logs", "raylet.out")
    with contextlib.suppress(OSError), open(log, errors="replace") as f:
        for line in f:
            if " C " in line and "(raylet)" in line:
                return line.split(": ", 1)[-1].strip()
    return ""


def _session(sid: int) -> list[psutil.Process]:
    """The processes of session ``sid`` but this one."""
    procs = []
    for proc in psutil.process_iter(["name"]):
        with contextlib.suppress(psutil.Error, OSError):
            if proc.pid != os.getpid() and os.getsid(proc.pid) == sid:
                procs.append(proc)
    return procs


def _raylet_gone(sid: int, seen: list[psutil.Process]) -> bool:
    """Whether session ``sid``'s raylet ran and is gone (its fatal line is not always
    logged); ``seen`` keeps the raylet once found."""
    if not seen:
        seen.extend(p for p in _session(sid) if p.info["name"] == "raylet")
        return False
    try:
        return seen[0].status() == psutil.STATUS_ZOMBIE
    except psutil.Error:
        return True


def _end_session(sid: int) -> None:
    """Kill every other process of session ``sid`` (the trial's: its Ray, workers,
    forked children, also those a dead raylet left to init), and only those."""
    for proc in _session(sid):
        with contextlib.suppress(psutil.Error):
            proc.kill()


def run_trial(timeout: float) -> Extra:
    """The anti program in a subprocess of its own session; every process of it ends here."""
    temp_dir = tempfile.mkdtemp(prefix="rp-fork-")
    code = f"from {__name__} import _trial; _trial({timeout!r}, {temp_dir!r})"
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    began = time.perf_counter()
    out = tempfile.TemporaryFile("w+")  # no pipe to fill while the trial is watched
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=out,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
        text=True,
    )
    killed_after, died = 0.0, False
    raylet: list[psutil.Process] = []
    try:
        # a dead raylet takes ~15 s to end the trial's driver: end the trial at once
        while proc.poll() is None and not (died := _raylet_gone(proc.pid, raylet)):
            if time.perf_counter() - began > timeout + 60:  # Ray's start, then the task's
                killed_after = time.perf_counter() - began
                break
            time.sleep(0.2)
        out.seek(0)
        said = [line for line in out.read().splitlines() if line.startswith(MARK)]
        reply = json.loads(said[-1][len(MARK) :]) if said else {}
        if killed_after:
            reply = {"outcome": "hung"}
    finally:
        _end_session(proc.pid)  # a session leader's session id is its pid
        proc.kill()
        proc.wait()
        out.close()
        check = _raylet_check(temp_dir)
        shutil.rmtree(temp_dir, ignore_errors=True)
    died = died or bool(check)
    outcome = "crashed" if died else reply.get("outcome", "crashed")
    if outcome == "hung":
        killed_after = killed_after or time.perf_counter() - began
    return {
        "ok": float(outcome == "ok"),
        "hung": float(outcome == "hung"),
        "crashed": float(outcome == "crashed"),
        "raylet_died": float(died),
        "killed_after_s": killed_after,
    }


def run_here(timeout: float) -> Extra:
    """The fixed program on the bench's own Ray: nothing of it can break the node."""
    table = _make_table()
    ok = hung = crashed = 0.0  # all 0: a wrong result
    try:
        got = ray.get(rows_spawn.remote([ray.put(table)]), timeout=timeout)
        ok = float(_sums_right(got, table))
    except ray.exceptions.GetTimeoutError:
        hung = 1.0
    except ray.exceptions.RayError:
        crashed = 1.0
    return {"ok": ok, "hung": hung, "crashed": crashed, "raylet_died": 0.0, "killed_after_s": 0.0}


def variants(quick: bool) -> list[Variant]:
    # a trial: 4-8 s for its Ray, 2-5 s for a spawn-started Pool of 2 (idle to loaded
    # machine); a trial whose raylet died is ended as soon as it is gone
    timeout = 20.0

    return [
        Variant("fork-started Pool, children use Ray", "anti", lambda: run_trial(timeout)),
        Variant("spawn-started Pool, task uses Ray", "better", lambda: run_here(timeout)),
    ]


def _outcome(res: CaseResult, role: str, who: str) -> str:
    v = res.by_role(role)  # type: ignore[arg-type]
    if v is None or not v.extras:
        return f"{who}: no figure"
    runs = len(v.extras)
    count = {k: sum(int(e.get(k, 0)) for e in v.extras) for k in ("ok", "hung", "crashed")}
    if count["ok"] == runs:
        return f"{who} worked in {runs} of {runs} runs"
    said = []
    if count["hung"]:
        after = max(e.get("killed_after_s", 0.0) for e in v.extras)
        said.append(f"hung in {count['hung']} (killed after {after:.0f} s)")
    if count["crashed"]:
        died = sum(int(e.get("raylet_died", 0)) for e in v.extras)
        how = f" (the raylet died in {died})" if died else ""
        said.append(f"crashed in {count['crashed']}{how}")
    wrong = runs - sum(count.values())
    said += [f"wrong result in {wrong}"] if wrong else []
    return f"{who}: {', '.join(said)} of {runs} runs"


def verdict(res: CaseResult) -> str:
    """What each Pool did in this run: hung, crashed or worked (no failure that did not happen)."""
    anti = _outcome(res, "anti", "fork-started Pool")
    if "worked" in anti:
        anti = f"anti-pattern NOT wrong here: {anti} (a fork can break Ray; it did not this time)"
    return f"{anti}; {_outcome(res, 'better', 'spawn-started')}"


CASE = Case(
    "fork-new-processes",
    "Pool children reading the object store, forked in a task vs spawned (ok = right sums)",
    variants,
    correct="ok",
    verdict=verdict,
    repeats=(1, 2),
)
