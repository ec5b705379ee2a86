"""The bench harness: cases, variants, repetitions, figures.

A case is one handbook slug: a module in ``ray_patterns/bench/cases`` that
defines ``CASE = Case(...)``. Adding a file adds a case.
"""

from __future__ import annotations

import gc
import importlib
import os
import pkgutil
import platform
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal

Role = Literal["anti", "better", "library", "peer"]
Extra = dict[str, float]


@dataclass(frozen=True)
class Variant:
    """One way of doing a case's work; ``run`` may return extra figures."""

    name: str
    role: Role
    run: Callable[[], Extra | None]


@dataclass(frozen=True)
class Case:
    """A handbook slug measured as anti-pattern vs better-by-hand vs library (vs peers).

    ``variants(quick)`` builds the variants at the size for that mode; ``metric``
    is ``"seconds"`` (wall time taken by the harness) or a key every variant
    returns in its extras (e.g. ``"first_result_s"``) when wall time is not the point.
    """

    slug: str
    summary: str
    variants: Callable[[bool], list[Variant]]
    metric: str = "seconds"
    repeats: tuple[int, int] = (3, 3)
    memory: bool = False
    setup: Callable[[], None] | None = None
    # named figures measured once per run (e.g. a target ratio), beside the variants
    figures: Callable[[bool], dict[str, float]] | None = None


@dataclass
class VariantResult:
    name: str
    role: Role
    values: list[float] = field(default_factory=list)
    extras: list[Extra] = field(default_factory=list)
    error: str | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else float("nan")

    def extra_median(self, key: str) -> float:
        vals = [e[key] for e in self.extras if key in e]
        return statistics.median(vals) if vals else float("nan")


@dataclass
class CaseResult:
    slug: str
    summary: str
    metric: str
    variants: list[VariantResult]
    figures: dict[str, float] = field(default_factory=dict)

    def by_role(self, role: Role) -> VariantResult | None:
        return next((v for v in self.variants if v.role == role and v.values), None)

    def ratio(self, role: Role, to: Role = "better") -> float:
        a, b = self.by_role(role), self.by_role(to)
        if a is None or b is None or not b.median:
            return float("nan")
        return a.median / b.median


def discover_cases() -> dict[str, Case]:
    """Every ``CASE`` in ``ray_patterns.bench.cases``, by slug, in module order."""
    from ray_patterns.bench import cases as pkg

    found: dict[str, Case] = {}
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{pkg.__name__}.{info.name}")
        case = getattr(module, "CASE", None)
        if isinstance(case, Case):
            found[case.slug] = case
    return found


def _proc_status_kib(field_name: str) -> int:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _store_probe() -> Callable[[], float] | None:
    """A function returning the object store's bytes in use, from the local raylet.

    Ray has no public API for this figure (``ray memory --stats-only`` prints it);
    this asks the raylet the same way, and the bench leaves it out if that fails.
    """
    try:
        import ray
        from ray._private.grpc_utils import init_grpc_channel
        from ray.core.generated import node_manager_pb2, node_manager_pb2_grpc

        node = next(n for n in ray.nodes() if n["Alive"])
        channel = init_grpc_channel(f"{node['NodeManagerAddress']}:{node['NodeManagerPort']}")
        stub = node_manager_pb2_grpc.NodeManagerServiceStub(channel)
        request = node_manager_pb2.FormatGlobalMemoryInfoRequest(  # type: ignore[attr-defined]
            include_memory_info=False
        )

        def used() -> float:
            reply = stub.FormatGlobalMemoryInfo(request, timeout=5)
            return float(reply.store_stats.object_store_bytes_used)

        used()
        return used
    except Exception:
        return None


@contextmanager
def peak_memory(interval: float = 0.02) -> Iterator[Extra]:
    """Peak growth (MiB) of the object store in use and of the driver's heap.

    Ray maps numpy results zero-copy, so the driver's RSS mixes its heap
    (RssAnon) with mapped store pages (RssShmem); the handbook's memory claims
    are about the object store, so store and heap are reported apart.
    """
    out: Extra = {}
    store = _store_probe()
    base = {"anon": _proc_status_kib("RssAnon") * 1024.0, "store": store() if store else 0.0}
    peak = dict(base)
    stop = threading.Event()

    def sample() -> None:
        while True:
            peak["anon"] = max(peak["anon"], _proc_status_kib("RssAnon") * 1024.0)
            if store is not None:
                try:
                    peak["store"] = max(peak["store"], store())
                except Exception:
                    pass
            if stop.wait(interval):
                return

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield out
    finally:
        stop.set()
        thread.join()
        out["driver_heap_mib"] = (peak["anon"] - base["anon"]) / (1 << 20)
        if store is not None:
            out["store_peak_mib"] = (peak["store"] - base["store"]) / (1 << 20)


def run_case(
    case: Case,
    *,
    quick: bool,
    on_step: Callable[[str], None] | None = None,
) -> CaseResult:
    """Run every variant of ``case`` round-robin, so drift hits all of them alike."""
    if case.setup is not None:
        case.setup()
    variants = case.variants(quick)
    results = [VariantResult(v.name, v.role) for v in variants]
    repeats = case.repeats[0] if quick else case.repeats[1]
    if not quick:
        # one untimed run each: first calls pay for exporting functions and
        # starting workers, which a steady-state comparison should not count
        for variant, result in zip(variants, results, strict=True):
            if on_step is not None:
                on_step(f"{case.slug}: {variant.name} (warm-up)")
            try:
                variant.run()
            except Exception as exc:
                result.error = f"{type(exc).__name__}: {exc}"
    for rep in range(repeats):
        for variant, result in zip(variants, results, strict=True):
            if result.error is not None:
                continue
            if on_step is not None:
                on_step(f"{case.slug}: {variant.name} ({rep + 1}/{repeats})")
            gc.collect()
            try:
                if case.memory:
                    with peak_memory() as mem:
                        start = time.perf_counter()
                        extra = variant.run() or {}
                        elapsed = time.perf_counter() - start
                    extra = {**extra, **mem}
                else:
                    start = time.perf_counter()
                    extra = variant.run() or {}
                    elapsed = time.perf_counter() - start
            except Exception as exc:  # a broken variant must not hide the others' figures
                result.error = f"{type(exc).__name__}: {exc}"
                continue
            extra = {"seconds": elapsed, **extra}
            result.extras.append(extra)
            result.values.append(extra[case.metric])
    figures: dict[str, float] = {}
    if case.figures is not None:
        if on_step is not None:
            on_step(f"{case.slug}: figures")
        try:
            figures = case.figures(quick)
        except Exception as exc:
            results.append(VariantResult("figures", "peer", error=f"{type(exc).__name__}: {exc}"))
    return CaseResult(case.slug, case.summary, case.metric, results, figures)


def machine_info() -> dict[str, object]:
    import ray

    return {
        "cpu_count": os.cpu_count(),
        "ray_cpus": ray.cluster_resources().get("CPU") if ray.is_initialized() else None,
        "ray_version": ray.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
