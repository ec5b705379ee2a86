"""tree-of-tasks: the handbook's quicksort: sequential, nested ``ray.get``, ours.

The handbook's distributed version blocks each task in ``ray.get`` on its
children; ``divide_and_conquer`` combines children in dependent tasks instead.
Figures: the worker processes each distributed version left running.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import psutil
import ray

from ray_patterns import divide_and_conquer
from ray_patterns.bench.core import Case, Extra, Variant

LEAF = 200_000  # the handbook's threshold


def partition(collection: list[int]) -> tuple[list[int], int, list[int]]:
    pivot = collection.pop()
    greater, lesser = [], []
    for element in collection:
        if element > pivot:
            greater.append(element)
        else:
            lesser.append(element)
    return lesser, pivot, greater


def quick_sort(collection: list[int]) -> list[int]:
    if len(collection) <= LEAF:
        return sorted(collection)
    lesser, pivot, greater = partition(collection)
    return quick_sort(lesser) + [pivot] + quick_sort(greater)


@ray.remote
def quick_sort_distributed(collection: list[int]) -> list[int]:
    if len(collection) <= LEAF:
        return sorted(collection)
    lesser, pivot, greater = partition(collection)
    lesser_ref = quick_sort_distributed.remote(lesser)
    greater_ref = quick_sort_distributed.remote(greater)
    return ray.get(lesser_ref) + [pivot] + ray.get(greater_ref)


def split(collection: list[int]) -> list[list[int]]:
    # two parts, not three: a one-item [pivot] part would cost a task of its own
    lesser, pivot, greater = partition(list(collection))
    greater.insert(0, pivot)
    return [lesser, greater]


def concat(parts: list[list[int]]) -> list[int]:
    out: list[int] = []
    for part in parts:
        out.extend(part)
    return out


def is_leaf(collection: list[int]) -> bool:
    return len(collection) <= LEAF


def workers() -> float:
    return float(
        sum(1 for p in psutil.process_iter(["name"]) if (p.info["name"] or "").startswith("ray::"))
    )


def variants(quick: bool) -> list[Variant]:
    n = 500_000 if quick else 4_000_000
    rng = random.Random(3)
    data = [rng.randint(0, n) for _ in range(n)]
    expected_head = sorted(data)[:10]

    def check(result: list[int]) -> Extra:
        assert len(result) == n and result[:10] == expected_head
        return {"ray_workers": workers()}

    def anti() -> Extra:
        return check(ray.get(quick_sort_distributed.remote(list(data))))

    def better() -> Extra:
        return check(quick_sort(list(data)))

    def library() -> Extra:
        return check(
            divide_and_conquer(
                list(data), split=split, solve=sorted, combine=concat, is_base=is_leaf
            )
        )

    def builtin() -> Extra:
        return check(sorted(data))

    return [
        Variant("nested ray.get (handbook)", "anti", anti),
        Variant("sequential quicksort", "better", better),
        Variant("divide_and_conquer", "library", library),
        Variant("sorted()", "peer", builtin),
    ]


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _table_row(n: int) -> dict[str, float]:
    rng = random.Random(n)
    data = [rng.randint(0, n) for _ in range(n)]
    label = f"{n // 1000}k"
    row = {
        f"{label} sequential s": _timed(lambda: quick_sort(list(data))),
        f"{label} divide_and_conquer s": _timed(
            lambda: divide_and_conquer(
                list(data), split=split, solve=sorted, combine=concat, is_base=is_leaf
            )
        ),
    }
    if n <= 4_000_000:
        row[f"{label} nested ray.get s"] = _timed(
            lambda: ray.get(quick_sort_distributed.remote(list(data)))
        )
    return row


def figures(quick: bool) -> dict[str, float]:
    """The handbook's table (sequential vs distributed, 200k to 8M items), ours beside it.

    The nested-get version stops at 4M: here it is already several times slower
    than sequential, and 8M would take minutes.
    """
    if quick:
        return {}
    out: dict[str, float] = {}
    for n in (200_000, 1_000_000, 2_000_000, 4_000_000, 8_000_000):
        out.update(_table_row(n))
    return out


CASE = Case(
    "tree-of-tasks",
    "quicksort of n ints, leaves of 200k sorted in place",
    variants,
    repeats=(1, 1),  # the full run adds the handbook table (5 sizes) as figures
    figures=figures,
)
