"""tree-of-tasks: recursive divide and conquer where no task waits on its children.

Handbook: a task submits sub-tasks of itself, e.g. quicksort, and ``ray.get``s
them. A task blocked in ``ray.get`` holds a worker process, so Ray starts more
workers; here children are combined by dependent tasks that take their refs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import ray
from ray import ObjectRef

from ray_patterns._ray import ensure_ray
from ray_patterns._stream import annotate, cancel


@dataclass
class _Node:
    path: tuple[int, ...]
    parent: _Node | None
    results: list[ObjectRef | None] = field(default_factory=list)
    waiting: int = 0
    result: ObjectRef | None = None


@functools.lru_cache(maxsize=64)
def _tasks(
    split: Callable[[Any], list[Any]],
    solve: Callable[[Any], Any],
    combine: Callable[[list[Any]], Any],
    is_base: Callable[[Any], bool],
) -> tuple[Any, Any]:
    def expand(problem: Any) -> Iterator[Any]:
        # first item: how many parts follow (0: the one that follows is the solution);
        # each part becomes its own object, so a child receives only its part
        if is_base(problem):
            yield 0
            yield solve(problem)
            return
        parts = list(split(problem))
        if not parts:
            raise ValueError("split() returned no parts for a problem is_base() rejected")
        yield len(parts)
        for part in parts:  # noqa: UP028 - `yield from` fails: Ray calls send() on it
            yield part

    def combine_values(*solutions: Any) -> Any:
        return combine(list(solutions))

    return ray.remote(expand), ray.remote(combine_values)


def divide_and_conquer(
    problem: Any,
    *,
    split: Callable[[Any], list[Any]],
    solve: Callable[[Any], Any],
    combine: Callable[[list[Any]], Any],
    is_base: Callable[[Any], bool],
) -> Any:
    """Solve ``problem`` by a tree of Ray tasks and return the solution.

    A task checks ``is_base(problem)``: if true it returns ``solve(problem)``,
    else ``split(problem)`` gives sub-problems, each solved by its own task, and
    ``combine(list_of_solutions)`` (in split order) runs in a task that takes the
    children's refs. No task ever blocks in ``ray.get``: the driver only reads
    each task's part count, so the worker count stays near the CPU count. Make
    base cases worth a task (~0.1 s or more of work).

    >>> import ray_patterns
    >>> ray_patterns.divide_and_conquer(
    ...     list(range(10)),
    ...     split=lambda xs: [xs[: len(xs) // 2], xs[len(xs) // 2 :]],
    ...     solve=sum,
    ...     combine=sum,
    ...     is_base=lambda xs: len(xs) <= 3,
    ... )
    45
    """
    functions = {"split": split, "solve": solve, "combine": combine, "is_base": is_base}
    for name, fn in functions.items():
        if not callable(fn):
            raise TypeError(f"{name} must be a callable, got {type(fn).__name__}")
    ensure_ray()
    expand, combine_task = _tasks(split, solve, combine, is_base)
    root = _Node(path=(), parent=None)
    running: dict[ObjectRef, tuple[_Node, Any]] = {}

    def start(node: _Node, problem: Any) -> None:
        generator = expand.remote(problem)
        running[generator.completed()] = (node, generator)

    def finish(node: _Node, result: ObjectRef) -> None:
        node.result = result
        parent = node.parent
        while parent is not None:
            parent.results[node.path[-1]] = node.result
            parent.waiting -= 1
            if parent.waiting:
                return
            parent.result = combine_task.remote(*parent.results)
            node, parent = parent, parent.parent

    start(root, problem)
    while running:
        ready, _ = ray.wait(list(running), num_returns=1)
        for done in ready:
            node, generator = running.pop(done)
            try:
                ray.get(done)
                refs = list(generator)
                count = ray.get(refs[0])
            except Exception as exc:
                for _, (_, other) in running.items():
                    cancel(other)
                where = "/".join(map(str, node.path)) or "root"
                raise annotate(exc, f"ray-patterns: raised in the sub-problem at {where}") from None
            if count == 0:
                finish(node, refs[1])
                continue
            node.results = [None] * count
            node.waiting = count
            for index, part in enumerate(refs[1:]):
                start(_Node(path=(*node.path, index), parent=node), part)
    assert root.result is not None
    return ray.get(root.result)


__all__ = ["divide_and_conquer"]
