"""The records of one watched run: what was defined, submitted, fetched and waited for.

Plain data (slots dataclasses) so a worker can pickle its records and ship them to
the driver; ``Recorder`` fills them and ``analysis`` reads them. Records compare by
identity (``eq=False``) and have docstrings: each generated method and the
signature ``dataclass`` writes into a bare class's ``__doc__`` cost every new
worker's import time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Site = tuple[str, int]


@dataclass(slots=True, eq=False)
class Submission:
    """A task, actor task or actor creation submitted with ``.remote()``."""

    index: int
    task_id: bytes
    site: Site
    definition: int
    kind: str  # "task" | "actor_task" | "actor_creation"
    t: float
    arg_bytes: int
    batch: int
    via_library: bool
    done: float | None = None  # when the driver saw it finished (get/wait), if it did
    method: str = ""  # the actor method of an actor task
    passed: bool = False  # its ref went into another call's arguments (not fetched here)


@dataclass(slots=True, eq=False)
class GetCall:
    """One ``ray.get`` call."""

    site: Site
    via_library: bool
    t0: float
    t1: float
    n_refs: int
    nbytes: int
    single: int  # submission index of a lone ref, else -1
    lone_fresh: bool  # the lone ref was the only submission since the last get/wait
    in_loop: bool
    failed: bool
    #: a small value (bool, None, int, short str) a poll returned, for busy-wait loops
    polled: Any = None


@dataclass(slots=True, eq=False)
class WaitCall:
    """One ``ray.wait`` call."""

    site: Site
    t0: float
    t1: float
    n_refs: int
    n_ready: int
    in_loop: bool


@dataclass(eq=False)
class Definition:
    """A remote function or actor class (``@ray.remote``)."""

    index: int
    key: tuple[str, str, int]
    name: str
    kind: str  # "function" | "actor"
    site: Site
    target: Any = field(repr=False)  # the user's function or class
    pickled_bytes: int | None = None
    captured: list[tuple[str, int]] = field(default_factory=list)
    calls: int = 0
    exported: bool = False
    snapshot: dict[str, tuple[Any, bytes | None]] = field(default_factory=dict, repr=False)
    global_reads: dict[str, Site] = field(default_factory=dict)
    global_changes: dict[str, list[Any]] = field(default_factory=dict)  # name -> [n, how, site]
    last_fingerprint_check: float = 0.0
    #: made by ``@ray.remote`` while the watch was on (not an earlier definition)
    in_watch: bool = False
    #: a task function whose calls in workers leave call records (``_worker.TIMED``)
    timed: bool = False


@dataclass(eq=False)
class Unnecessary:
    """Values fetched at ``get_site`` that went back into ``.remote()`` at ``submit_site``."""

    get_index: int
    get_site: Site
    submit_site: Site
    nbytes: int
    count: int = 1
