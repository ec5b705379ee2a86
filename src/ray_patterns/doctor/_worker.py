"""Worker side: count blocking ``ray.get``/``ray.wait`` inside a running event loop.

Installed by the doctor through ``runtime_env={"worker_process_setup_hook": ...}``
when the watched program calls ``ray.init``. Each worker keeps its own counts and
writes them to Ray's internal KV store (works on every node, no files, no actor),
where the driver reads them at the end. Nothing else runs in workers: task times
come from Ray's own task events (see ``ray_patterns.doctor._events``).
"""

from __future__ import annotations

import asyncio
import json
import os
from collections import Counter
from typing import Any

ENV_TOKEN = "RAY_PATTERNS_DOCTOR_TOKEN"
KV_NAMESPACE = "ray_patterns_doctor"
HOOK = "ray_patterns.doctor._worker.setup"

_counts: Counter[tuple[str, str, int]] = Counter()


def _publish(token: str) -> None:
    from ray.experimental import internal_kv

    rows = [[kind, path, line, n] for (kind, path, line), n in _counts.items()]
    internal_kv._internal_kv_put(
        f"{token}:{os.getpid()}", json.dumps(rows), overwrite=True, namespace=KV_NAMESPACE
    )


def _wrap(original: Any, kind: str, token: str) -> Any:
    from ray_patterns.doctor._sites import user_site

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # the check is one C call; everything else happens only on the anti-pattern
        if asyncio._get_running_loop() is not None:
            path, line, _ = user_site(2)
            _counts[(kind, path, line)] += 1
            try:
                _publish(token)
            except Exception:  # the program's call matters more than our count
                pass
        return original(*args, **kwargs)

    wrapper.__wrapped__ = original  # type: ignore[attr-defined]
    return wrapper


def setup() -> None:
    """Patch this worker's ``ray.get``/``ray.wait`` (once) when the doctor asked for it."""
    import ray

    token = os.environ.get(ENV_TOKEN)
    if not token or getattr(ray.get, "_ray_patterns_doctor", False):
        return
    for name, kind in (("get", "ray.get"), ("wait", "ray.wait")):
        wrapped = _wrap(getattr(ray, name), kind, token)
        wrapped._ray_patterns_doctor = True
        setattr(ray, name, wrapped)


def collect(token: str) -> list[tuple[str, str, int, int]]:
    """On the driver: every worker's ``(kind, path, line, count)`` for ``token``."""
    from ray.experimental import internal_kv

    merged: Counter[tuple[str, str, int]] = Counter()
    for key in internal_kv._internal_kv_list(token, namespace=KV_NAMESPACE):
        raw = internal_kv._internal_kv_get(key, namespace=KV_NAMESPACE)
        if raw:
            for kind, path, line, n in json.loads(raw):
                merged[(kind, path, int(line))] += int(n)
        internal_kv._internal_kv_del(key, namespace=KV_NAMESPACE)
    return [(k, p, ln, n) for (k, p, ln), n in merged.items()]
