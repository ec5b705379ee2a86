"""Worker side: the same Recorder as the driver's, in every worker of the watched job.

How it gets there: the doctor adds a ``worker_process_setup_hook`` to the job's
runtime environment (merged with the program's own; a hook the program already
has runs after ours), whether the program starts a local Ray or joins a cluster
(``RAY_ADDRESS``, ``ray.init(address=...)``). When Ray was already running before
the watch began, the job's runtime environment is fixed and the watch sees the
driver only (an actor-level runtime_env with the hook made actor creation hang
here: left out).

The hook itself is pickled by value (``make_hook``) and imports ``ray_patterns``
inside ``try``: on a worker where it is not installed, the worker runs on
unobserved and leaves a note for the report, never failing to start.

What it costs a worker: the same patches as the driver (a record appended per
call), and a daemon thread that, at most every ``FLUSH_S`` and only when something
changed, pickles the worker's records into Ray's internal KV store (one key per
worker process, overwritten, at most ``MAX_RECORDS`` of each kind). The driver reads
and deletes the keys when the watch ends.
"""

from __future__ import annotations

import atexit
import os
import pickle
import threading
import time
from collections.abc import Callable
from typing import Any

KV_NAMESPACE = "ray_patterns_doctor"
FLUSH_S = 0.1
#: a worker ships at most this many records of each kind (and says it cut some)
MAX_RECORDS = 100_000
#: the driver reads the workers' records this long after the watch ended, at least
SETTLE_S = 3 * FLUSH_S

_state: dict[str, Any] = {}


def make_hook(token: str, chained: Any = None) -> Callable[[], None]:
    """The setup hook for the job's workers: a closure pickled by value.

    It refers to no module global, so a worker unpickles it without importing
    ``ray_patterns``; ``chained`` is the program's own hook (a callable, a module
    path, or Ray's key of an exported one), run after ours.
    """

    def ray_patterns_doctor_hook() -> None:
        import os as _os

        try:
            from ray_patterns.doctor import _worker as worker_side

            worker_side.setup(token)
        except Exception as exc:  # not installed here: carry on unobserved, say why
            try:
                from ray.experimental import internal_kv

                internal_kv._internal_kv_put(
                    f"{token}:missing:{_os.getpid()}",
                    f"{type(exc).__name__}: {exc}",
                    overwrite=True,
                    namespace="ray_patterns_doctor",
                )
            except Exception:
                pass
        if chained is None:
            return
        if callable(chained):
            chained()
            return
        from ray._private.runtime_env.setup_hook import load_and_execute_setup_hook

        error = load_and_execute_setup_hook(chained)
        if error is not None:
            raise RuntimeError(error)

    return ray_patterns_doctor_hook


def setup(token: str) -> None:
    """Start recording in this worker (once per process) and shipping to the driver."""
    if _state.get("token") == token:
        return
    from ray_patterns.doctor import _patches
    from ray_patterns.doctor._recorder import Recorder
    from ray_patterns.doctor.thresholds import Thresholds

    rec = Recorder(Thresholds().resolved(), worker=True)
    rec.token = token
    _patches.install(rec, worker=True)
    _state.update(token=token, rec=rec, shipped=-1)
    thread = threading.Thread(target=_flush_loop, name="ray-patterns-doctor", daemon=True)
    thread.start()
    atexit.register(flush)


def _key(token: str) -> str:
    return f"{token}:rec:{os.getpid()}"


def flush() -> None:
    """Ship this worker's records if they changed since the last time."""
    rec = _state.get("rec")
    if rec is None or rec.changes == _state.get("shipped"):
        return
    from ray.experimental import internal_kv

    changes = rec.changes
    payload = pickle.dumps(rec.shippable(MAX_RECORDS), protocol=5)
    internal_kv._internal_kv_put(_key(rec.token), payload, overwrite=True, namespace=KV_NAMESPACE)
    _state["shipped"] = changes


def _flush_loop() -> None:
    while True:
        time.sleep(FLUSH_S)
        try:
            flush()
        except Exception:  # the cluster going away: nothing left to tell
            pass


def collect(token: str) -> tuple[list[dict[str, Any]], list[str]]:
    """On the driver: every worker's shipped records, and notes of workers that could not
    record (``ray_patterns`` not importable there); the keys are deleted."""
    from ray.experimental import internal_kv

    shipped: list[dict[str, Any]] = []
    missing: list[str] = []
    for key in internal_kv._internal_kv_list(token, namespace=KV_NAMESPACE):
        raw = internal_kv._internal_kv_get(key, namespace=KV_NAMESPACE)
        internal_kv._internal_kv_del(key, namespace=KV_NAMESPACE)
        if not raw:
            continue
        name = key.decode() if isinstance(key, bytes) else str(key)
        if ":missing:" in name:
            missing.append(raw.decode() if isinstance(raw, bytes) else str(raw))
        else:
            shipped.append(pickle.loads(raw))
    return shipped, missing
