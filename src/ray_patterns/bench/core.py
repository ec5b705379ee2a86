"""The bench harness: cases, variants, repetitions, figures.

A case is one handbook slug: a module in ``ray_patterns/bench/cases`` that
defines ``CASE = Case(...)``. Adding a file adds a case.
"""

from __future__ import annotations

import ctypes
import gc
import importlib
import math
import os
import pkgutil
import platform
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal

Role = Literal["anti", "better", "library", "peer"]
Extra = dict[str, float]
#: what a page is about, so what its headline figure is
Kind = Literal["speed", "latency", "memory", "correctness"]

_LATENCY_KEYS = ("delay", "latency", "p50", "p90", "p99", "first_result")


def metric_kind(metric: str) -> Kind:
    """The kind a metric's key implies: ``*_mib`` memory, delays/percentiles latency, else speed."""
    if metric.endswith("_mib"):
        return "memory"
    if any(k in metric for k in _LATENCY_KEYS):
        return "latency"
    return "speed"


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

    The summary leads with what the page is about: ``kind`` (default: implied by
    the metric's name; a memory metric such as ``"store_peak_mib"`` turns on
    ``memory``). A correctness page names in ``correct`` the extra that shows the
    result (e.g. ``"value"``) and says in ``verdict`` what the anti-pattern got
    wrong ("read 6, expected 7"). ``quick_caveat`` says why the quick size cannot
    show the page's point, where it cannot: the summary prints it instead of a
    misleading ratio.

    Example::

        Case("ray-get-loop", "n tasks: get in the loop vs submit all", variants)
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
    kind: Kind | None = None
    lower_is_better: bool = True
    correct: str | None = None
    verdict: Callable[[CaseResult], str] | None = None
    quick_caveat: str = ""
    #: what the summary calls the metric (default: from its key)
    label: str = ""

    def __post_init__(self) -> None:
        kind = self.kind or ("correctness" if self.correct else metric_kind(self.metric))
        object.__setattr__(self, "kind", kind)
        if kind == "memory":
            object.__setattr__(self, "memory", True)


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
    kind: Kind = "speed"
    lower_is_better: bool = True
    correct: str | None = None
    quick: bool = False
    #: why the quick size cannot show the page (set only in quick runs)
    caveat: str = ""
    verdict: str = ""
    label: str = ""
    #: seconds the whole case took (setup, warm-ups, every repetition, figures)
    wall_s: float = 0.0
    #: seconds of the timed repetitions alone (what the medians are made of)
    timed_s: float = 0.0

    def by_role(self, role: Role) -> VariantResult | None:
        return next((v for v in self.variants if v.role == role and v.values), None)

    def ratio(self, role: Role, to: Role = "better") -> float:
        """``role``'s metric over ``to``'s: the median of the rounds' ratios.

        The i-th values of both ran in the same round, next to each other, so load
        that comes and goes between rounds cancels out of each ratio; median over
        median where a round of ``to`` reads 0 (an exact figure, e.g. no MiB held).
        """
        a, b = self.by_role(role), self.by_role(to)
        if a is None or b is None:
            return float("nan")
        rounds = round_ratios(a.values, b.values)
        if rounds and len(rounds) == min(len(a.values), len(b.values)):
            return statistics.median(rounds)
        return a.median / b.median if b.median else float("nan")

    def best_peer(self) -> VariantResult | None:
        """The peer with the best median on the metric, if any peer ran."""
        peers = [v for v in self.variants if v.role == "peer" and v.values]
        if not peers:
            return None
        pick = min if self.lower_is_better else max
        return pick(peers, key=lambda v: v.median)


def round_ratios(top: list[float], bottom: list[float]) -> list[float]:
    """``top[i] / bottom[i]`` of each round where both have a figure (``bottom[i]``
    above 0; NaN is no figure); the i-th values of two variants ran in one round.

    >>> round_ratios([1.1, 2.0, 3.0], [1.0, 2.0, 0.0])
    [1.1, 1.0]
    """
    return [x / y for x, y in zip(top, bottom, strict=False) if y > 0 and x >= 0]


def _times(factor: float) -> str:
    return f"{factor:.1f}x" if factor < 10 else f"{factor:.0f}x"


def compare(ratio: float, kind: Kind, lower_is_better: bool = True) -> str:
    """An anti-pattern's ratio to the fix in words: ``"2.0x slower"``, ``"holds 5x the memory"``.

    ``"="`` within 10%; ``"-"`` when there is no ratio.
    """
    if math.isnan(ratio) or ratio <= 0:
        return "-"
    worse = ratio if lower_is_better else 1 / ratio
    if 1 / 1.10 <= worse <= 1.10:
        return "="
    if kind == "memory":
        return f"holds {_times(ratio)} the memory"
    if kind == "latency":
        return f"has {_times(ratio)} the latency"
    return f"{_times(max(worse, 1 / worse))} {'slower' if worse > 1 else 'faster'}"


_BETTER_WORSE: dict[Kind, tuple[str, str]] = {
    "speed": ("faster", "slower"),
    "correctness": ("faster", "slower"),
    "memory": ("less memory", "more memory"),
    "latency": ("lower latency", "higher latency"),
}


def against_hand(res: CaseResult, value: float, who: str, ratio: float | None = None) -> str:
    """``who`` against the fix by hand on the metric: ``"library = by hand"``,
    ``"library 1.4x faster than by hand"``, ``"X holds 2.0x less than by hand"``.

    ``ratio``: ``who``'s over the fix's, where known (default: ``value`` over the
    fix's median)."""
    better = res.by_role("better")
    if better is None or math.isnan(value):
        return f"{who}: no figure"
    if res.kind == "memory" and abs(value) < 1.0 and abs(better.median) < 1.0:
        return f"{who} = by hand"  # under 1 MiB both: a ratio would be noise
    if not better.median or value <= 0:
        return f"{who}: no figure"
    if ratio is None:
        ratio = value / better.median
    if math.isnan(ratio) or ratio <= 0:
        return f"{who}: no figure"
    worse = ratio if res.lower_is_better else 1 / ratio
    if 1 / 1.10 <= worse <= 1.10:
        return f"{who} = by hand"
    good, bad = _BETTER_WORSE[res.kind]
    factor = _times(max(worse, 1 / worse))
    if res.kind == "memory":
        return f"{who} holds {factor} {'more' if worse > 1 else 'less'} than by hand"
    return f"{who} {factor} {bad if worse > 1 else good} than by hand"


def library_phrase(res: CaseResult) -> str:
    """The library against the fix by hand: ``"library = by hand"``, ``"library 1.4x faster"``."""
    library = res.by_role("library")
    if library is None:
        return "fix: plain Ray"
    return against_hand(res, library.median, "library", res.ratio("library"))


def _fig(value: float) -> str:
    return f"{value:.1f}" if abs(value) < 10 else f"{value:.0f}"


def _mib(value: float) -> str:
    return f"{value:.1f} MiB" if abs(value) < 10 else f"{value:.0f} MiB"


def default_verdict(res: CaseResult) -> str:
    """``"anti-pattern 2.0x slower; library = by hand"``, from the medians of one run."""
    parts = []
    anti = res.by_role("anti")
    if anti is not None:
        if res.caveat:
            parts.append(f"quick size too small: {res.caveat}")
        elif res.kind == "correctness" and res.correct:
            got, right = anti.extra_median(res.correct), _role_extra(res, "better", res.correct)
            what = metric_label(res.correct)
            if got == right:
                parts.append(f"anti-pattern NOT wrong here ({what} {got:.3g}, as by hand)")
            else:
                parts.append(f"anti-pattern wrong: {what} {got:.3g} vs {right:.3g} by hand")
        else:
            said = compare(res.ratio("anti"), res.kind, res.lower_is_better)
            ratio = res.ratio("anti")
            worse = ratio if res.lower_is_better else 1 / ratio
            better = res.by_role("better")
            if res.kind == "memory" and better is not None:
                where = _WHERE.get(res.metric, res.label)
                figures = f"{_fig(anti.median)} vs {_mib(better.median)} {where}"
                if abs(better.median) < 1.0 and anti.median >= 1.0:
                    parts.append(f"anti-pattern holds {figures}")
                elif said in ("=", "-") or worse < 1:
                    parts.append(f"anti-pattern NOT worse here ({figures})")
                else:
                    parts.append(f"anti-pattern {said} ({figures})")
            elif said in ("=", "-") or worse < 1:
                parts.append(f"anti-pattern NOT worse here ({ratio:.2f}x {res.label})")
            elif res.kind == "latency":
                parts.append(f"anti-pattern {said.replace('latency', res.label)}")
            else:
                parts.append(f"anti-pattern {said}")
    if res.caveat:
        return "; ".join(parts)  # the library's ratio at that size would mislead as well
    if res.by_role("better") is not None or res.by_role("library") is not None:
        parts.append(library_phrase(res))
    return "; ".join(parts)


def _role_extra(res: CaseResult, role: Role, key: str) -> float:
    v = res.by_role(role)
    return v.extra_median(key) if v is not None else float("nan")


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


def _store_probe() -> Callable[[], tuple[float, float]] | None:
    """A function returning the local object store's (bytes used, bytes pinned as primary copies).

    Ray's own counters, from the raylet's ``GetNodeStats`` RPC (what ``ray memory
    --stats-only`` prints; about 1 ms a call here). Ray keeps no peak, so
    ``peak_memory`` polls this back to back. The bench leaves the figure out if
    the raylet cannot be asked.
    """
    try:
        import ray
        from ray._private.grpc_utils import init_grpc_channel
        from ray.core.generated import node_manager_pb2, node_manager_pb2_grpc

        me = ray.get_runtime_context().get_node_id()
        node = next(n for n in ray.nodes() if n["Alive"] and n["NodeID"] == me)
        channel = init_grpc_channel(f"{node['NodeManagerAddress']}:{node['NodeManagerPort']}")
        stub = node_manager_pb2_grpc.NodeManagerServiceStub(channel)
        request = node_manager_pb2.GetNodeStatsRequest(  # type: ignore[attr-defined]
            include_memory_info=False
        )

        def used() -> tuple[float, float]:
            stats = stub.GetNodeStats(request, timeout=5).store_stats
            return float(stats.object_store_bytes_used), float(
                stats.object_store_bytes_primary_copy
            )

        used()
        return used
    except Exception:
        return None


def _reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM) of this process; False where Linux refuses.

    Heap freed by the last run first goes back to the OS (glibc's ``malloc_trim``):
    kept, it would be reused without raising the RSS, hiding the next run's peak.
    """
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def settle_store(timeout: float = 3.0) -> None:
    """Wait until the object store stops shrinking: the last variant's objects are freed.

    Ray frees released objects in batches, so a variant started at once would
    count the previous one's leftovers in its own peak.
    """
    store = _store_probe()
    if store is None:
        return
    deadline = time.monotonic() + timeout
    last = store()[0]
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now = store()[0]
        if now >= last:
            return
        last = now


@contextmanager
def sampling(sample: Callable[[], None], interval: float) -> Iterator[None]:
    """Call ``sample()`` in a background thread over the ``with`` body: at once, then
    every ``interval`` seconds (0: back to back) until the body ends.

    Example::

        peak = [0]
        with sampling(lambda: peak.__setitem__(0, max(peak[0], read())), 0.01):
            work()
    """
    stop = threading.Event()

    def loop() -> None:
        while True:
            sample()
            if stop.wait(interval):
                return

    thread = threading.Thread(target=loop, daemon=True, name="bench-sampler")
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@contextmanager
def peak_memory(interval: float = 0.0) -> Iterator[Extra]:
    """Peak growth (MiB) of the object store and of the driver, over the ``with`` body.

    - ``store_peak_mib``: bytes pinned in the local object store as primary
      copies (objects whose refs are alive: what the program holds), from Ray's
      own counter, polled back to back (``store_poll_ms`` is the longest gap
      between two readings). A value still read zero-copy after its ref was
      dropped is not pinned: ``store_used_peak_mib`` counts it, and also objects
      released but not yet deleted by Ray (it frees them in batches), so it
      runs high.
    - ``driver_peak_mib``: the driver's peak RSS (the kernel's VmHWM, reset at
      the start, freed heap trimmed first: exact, no sampling). Store pages the
      driver maps count too, but only the first time it touches them.
    - ``driver_heap_mib``: the driver's own heap (RssAnon), sampled.
    """
    out: Extra = {}
    store = _store_probe()
    exact_rss = _reset_peak_rss()
    base_rss = _proc_status_kib("VmRSS") * 1024.0
    used0, pinned0 = store() if store else (0.0, 0.0)
    anon0 = _proc_status_kib("RssAnon") * 1024.0
    peak = {"anon": anon0, "used": used0, "pinned": pinned0, "gap": 0.0, "last": 0.0}

    def sample() -> None:
        peak["anon"] = max(peak["anon"], _proc_status_kib("RssAnon") * 1024.0)
        if store is None:
            return
        try:
            used, pinned = store()
        except Exception:
            pass
        else:
            peak["used"] = max(peak["used"], used)
            peak["pinned"] = max(peak["pinned"], pinned)
        now = time.perf_counter()
        if peak["last"]:
            peak["gap"] = max(peak["gap"], now - peak["last"])
        peak["last"] = now

    # back-to-back polling: let the sampler take the GIL every 0.5 ms, not every 5 ms
    switch = sys.getswitchinterval()
    if interval == 0.0:
        sys.setswitchinterval(0.0005)
    try:
        with sampling(sample, interval if store is not None else max(interval, 0.005)):
            yield out
    finally:
        sys.setswitchinterval(switch)
        mib = float(1 << 20)
        out["driver_heap_mib"] = (peak["anon"] - anon0) / mib
        if exact_rss:
            out["driver_peak_mib"] = (_proc_status_kib("VmHWM") * 1024.0 - base_rss) / mib
        if store is not None:
            out["store_peak_mib"] = (peak["pinned"] - pinned0) / mib
            out["store_used_peak_mib"] = (peak["used"] - used0) / mib
            out["store_poll_ms"] = peak["gap"] * 1000


def run_case(
    case: Case,
    *,
    quick: bool,
    on_step: Callable[[str], None] | None = None,
) -> CaseResult:
    """Run every variant of ``case`` in rounds, so drift hits all of them alike.

    Each round runs every variant once, in the opposite order to the round
    before, and every second round starts one variant later (a, b, c, c, b, a,
    b, c, a, a, c, b, ...): no variant always runs right after the same other
    one, whose leftovers (busy workers, garbage, freed store pages) it would
    otherwise always pay for, and with an odd number of rounds the extra first
    place goes to a different variant for different counts, not always the first.
    """
    began = time.perf_counter()
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
    timed = 0.0
    pairs = list(zip(variants, results, strict=True))
    for rep in range(repeats):
        shift = (rep // 2) % len(pairs) if pairs else 0
        order = pairs[shift:] + pairs[:shift]
        for variant, result in order if rep % 2 == 0 else order[::-1]:
            if result.error is not None:
                continue
            if on_step is not None:
                on_step(f"{case.slug}: {variant.name} ({rep + 1}/{repeats})")
            gc.collect()
            try:
                if case.memory:
                    settle_store()
                    with peak_memory(0.0 if case.kind == "memory" else 0.01) as mem:
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
            timed += elapsed
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
    res = CaseResult(
        case.slug,
        case.summary,
        case.metric,
        results,
        figures,
        kind=case.kind or "speed",
        lower_is_better=case.lower_is_better,
        correct=case.correct,
        quick=quick,
        caveat=case.quick_caveat if quick else "",
        label=case.label or metric_label(case.metric),
        wall_s=time.perf_counter() - began,
        timed_s=timed,
    )
    try:
        res.verdict = (case.verdict or default_verdict)(res)
    except Exception as exc:  # a verdict must not lose the figures
        res.verdict = f"no verdict ({type(exc).__name__}: {exc})"
    return res


_WHERE = {"store_peak_mib": "in the store", "driver_peak_mib": "in the driver"}

_LABELS = {
    "seconds": "time",
    "store_peak_mib": "store peak",
    "driver_peak_mib": "driver peak",
    "p99_ms": "p99 latency",
    "mean_delay_s": "result delay",
    "per_call_ms": "per call",
    "workload_s": "workload time",
}


def metric_label(metric: str) -> str:
    """What the summary calls a metric key (``"store_peak_mib"`` -> ``"store peak"``)."""
    return _LABELS.get(metric, metric.replace("_", " "))


def machine_info() -> dict[str, object]:
    import ray

    return {
        "cpu_count": os.cpu_count(),
        "ray_cpus": ray.cluster_resources().get("CPU") if ray.is_initialized() else None,
        "ray_version": ray.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
