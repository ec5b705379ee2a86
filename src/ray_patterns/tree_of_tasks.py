"""tree-of-tasks: recursive divide and conquer where no task waits on its children.

Handbook: a task submits sub-tasks of itself, e.g. quicksort, and ``ray.get``s
them. A task blocked in ``ray.get`` holds a worker process, so Ray starts more
workers; here children are combined by dependent tasks that take their refs.

Two rules keep it fast and safe:

- Tasks are few and long: the top of the tree is spread over tasks until the
  sub-problems are small shares of the whole, then one task solves each such
  sub-tree by recursing locally (same ``split``/``solve``/``combine`` calls).
  Every level of tasks costs a round trip of the data through the object store.
- The caller works too, where its data is: a problem too cheap to ship is
  solved right there, and when the root's parts leave a CPU free the caller
  solves one of them itself instead of copying it out and its solution back.
- Nothing is ever cancelled. Ray 2.60 aborts the driver (``reference_counter.cc``
  check ``submitted_task_ref_count > 0``) when a task is cancelled while its
  ``ObjectRef`` arguments are still being resolved, and every task here takes
  refs. On an error the driver stops submitting; the few tasks in flight (at
  most two per CPU) finish in the background and their results are dropped.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import ray
from ray import ObjectRef

from ray_patterns._ray import ensure_ray, remote_once
from ray_patterns._sizing import default_max_in_flight
from ray_patterns._stream import annotate

# set on an exception raised inside a whole-sub-tree task: (path, stage) of the node
_WHERE = "_ray_patterns_where"
# a sub-problem up to this many times its 1/subtree_tasks share is still solved in one
# task: a split is rarely even (quicksort's pivot), and a part just above the share
# would otherwise cost a whole level of tasks, each a copy of its data through the
# store, to save a little imbalance
_SLACK = 1.5
# (job id, seconds): Ray's round trip of a trivial task, measured once per job
_round_trip: tuple[Any, float] = (None, 0.0)


@ray.remote
def _ping() -> None:
    return None


def _task_round_trip() -> float:
    """Ray's round trip of a trivial task here (best of 3; measured once per job)."""
    global _round_trip
    job = ray.get_runtime_context().get_job_id()
    if _round_trip[0] != job:
        best = float("inf")
        for _ in range(3):  # the first may wait for a worker to start
            start = time.perf_counter()
            ray.get(_ping.remote())
            best = min(best, time.perf_counter() - start)
        _round_trip = (job, best)
    return _round_trip[1]


@dataclass
class _Node:
    path: tuple[int, ...]
    parent: _Node | None
    results: list[ObjectRef | None] = field(default_factory=list)
    waiting: int = 0
    result: ObjectRef | None = None


def _weight(problem: Any) -> int | None:
    """The problem's ``len()``, the share of the work it stands for; None without one."""
    try:
        return len(problem)
    except Exception:
        return None


def _mark(exc: BaseException, path: tuple[int, ...], stage: str) -> None:
    # the innermost node marks it first; outer frames of the recursion keep that mark
    if getattr(exc, _WHERE, None) is None:
        try:
            setattr(exc, _WHERE, (path, stage))
        except Exception:  # an exception type that takes no attributes: the task's node is named
            pass


def _fetched(ref: ObjectRef) -> None:
    try:
        ray.get(ref, timeout=0)
    except Exception:
        pass


def _where(path: tuple[int, ...]) -> str:
    return "/".join(map(str, path)) or "root"


def _note(exc: BaseException, path: tuple[int, ...], stage: str) -> BaseException:
    path, stage = getattr(exc, _WHERE, None) or (path, stage)
    what = "combine()" if stage == "combine" else "the sub-problem"  # split, solve, is_base
    return annotate(exc, f"ray-patterns: raised in {what} at {_where(path)}")


def _parts(split: Callable[[Any], list[Any]], problem: Any) -> list[Any]:
    parts = list(split(problem))
    if not parts:
        raise ValueError("split() returned no parts for a problem is_base() rejected")
    return parts


def _local(
    fns: tuple[Callable[..., Any], ...], problem: Any, path: tuple[int, ...], parts: Any = None
) -> Any:
    """Solve ``problem`` by recursing in this process (``parts``: its split, done already)."""
    split, solve, combine, is_base = fns
    if parts is None:
        try:
            if is_base(problem):
                return solve(problem)
            parts = _parts(split, problem)
        except Exception as exc:
            _mark(exc, path, "split")
            raise
    solutions = [_local(fns, part, (*path, index)) for index, part in enumerate(parts)]
    try:
        return combine(solutions)
    except Exception as exc:
        _mark(exc, path, "combine")
        raise


def _make_tasks(
    split: Callable[[Any], list[Any]],
    solve: Callable[[Any], Any],
    combine: Callable[[list[Any]], Any],
    is_base: Callable[[Any], bool],
) -> tuple[Any, Any, Any]:
    fns = (split, solve, combine, is_base)

    def parts_of(problem: Any) -> list[Any]:
        return _parts(split, problem)

    def local(problem: Any, path: tuple[int, ...]) -> Any:
        return _local(fns, problem, path)

    def expand(problem: Any) -> Iterator[Any]:
        # first item: (how many parts follow, their weights); 0 parts: the solution
        # follows. Each part becomes its own object, so a child receives only its part.
        if is_base(problem):
            solution = solve(problem)  # before the header: an error must not follow a count
            yield 0, []
            yield solution
            return
        parts = parts_of(problem)
        yield len(parts), [_weight(part) for part in parts]
        for part in parts:  # noqa: UP028 - `yield from` fails: Ray calls send() on it
            yield part

    def subtree(problem: Any, path: tuple[int, ...]) -> tuple[None, Any]:
        # two returns: the driver checks the small first one for errors and never
        # fetches the solution, which goes to the parent's combine task by ref
        return None, local(problem, path)

    def combine_values(*solutions: Any) -> tuple[None, Any]:
        return None, combine(list(solutions))

    return (
        ray.remote(expand),
        ray.remote(num_returns=2)(subtree),
        ray.remote(num_returns=2)(combine_values),
    )


def divide_and_conquer(
    problem: Any,
    *,
    split: Callable[[Any], list[Any]],
    solve: Callable[[Any], Any],
    combine: Callable[[list[Any]], Any],
    is_base: Callable[[Any], bool],
    subtree_tasks: int | None = None,
    in_caller: bool = True,
) -> Any:
    """Solve ``problem`` by a tree of Ray tasks and return the solution.

    ``is_base(problem)`` true: the solution is ``solve(problem)``; else
    ``split(problem)`` gives sub-problems, solved the same way, and
    ``combine(list_of_solutions)`` (in split order) joins them. No task ever
    blocks in ``ray.get``: the driver reads only each task's part count and
    submits combine tasks that take the children's refs, so the worker count
    stays near the CPU count; Ray places them by their arguments' location. The
    root is split and its parts combined in the driver, which holds the problem
    and needs the solution anyway: each saves one copy of all the data.

    ``subtree_tasks`` (default: the cluster's CPU count): a sub-problem whose
    ``len()`` is at most 1/``subtree_tasks`` of the problem's is solved by one
    task that recurses locally, so tasks are few and long and the data crosses
    the object store only at the top levels. Without ``len()``, sub-trees start
    once that many sub-problems are open. ``0`` gives every node its own task.

    ``in_caller`` (default True): the caller solves what shipping would only
    slow down. A base problem, or one whose root split took less than one of
    Ray's trivial-task round trips (measured once per job) per part, is solved
    right here: shipping each part out and its solution back costs more than
    that. And when every root part is a whole sub-tree and they are no more
    than the CPUs, the caller solves the largest itself while tasks solve the
    others (a CPU would be idle otherwise, and that part is not copied out and
    back). ``False``: every part goes to a task (e.g. ``solve`` needs a worker).

    An error names the node (``"0/1"``: second part of the first part) in a note;
    nothing is cancelled (see the module docstring), no new task is started.

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
    if subtree_tasks is not None and (
        isinstance(subtree_tasks, bool) or not isinstance(subtree_tasks, int) or subtree_tasks < 0
    ):
        raise ValueError(f"subtree_tasks must be an integer >= 0 or None, got {subtree_tasks!r}")
    if not isinstance(in_caller, bool):
        raise ValueError(f"in_caller must be True or False, got {in_caller!r}")
    fns = (split, solve, combine, is_base)
    ensure_ray()
    # the root is split here: the problem is in the driver already, and a task
    # would receive it only through one more copy (a pickling pass, for a list)
    try:
        base = is_base(problem)
        if base and in_caller:
            return solve(problem)
        started = time.perf_counter()
        parts = None if base else _parts(split, problem)
        split_s = time.perf_counter() - started
    except Exception as exc:
        raise _note(exc, (), "split") from None
    if parts is not None and in_caller and split_s < len(parts) * _task_round_trip():
        try:
            return _local(fns, problem, (), parts)
        except Exception as exc:
            raise _note(exc, (), "split") from None
    # tasks in flight: every CPU busy and one queued behind it (the CPU count is
    # cached for a few seconds: asking costs ~1 ms); also what keeps running
    # after an error, since nothing is cancelled
    window = default_max_in_flight(2)
    cpus = window // 2
    target = cpus if subtree_tasks is None else subtree_tasks
    whole = _weight(problem)
    root = _Node(path=(), parent=None)
    todo: list[tuple[_Node, Any, int | None]] = []  # nodes to start, LIFO: depth first
    expand, subtree, combine_task = remote_once(_make_tasks, split, solve, combine, is_base)
    combines: list[_Node] = []
    # ref to wait on -> (node, stage, the expand task's generator or the solution's ref)
    running: dict[ObjectRef, tuple[_Node, str, Any]] = {}
    expanding = 0

    def whole_subtree(weight: int | None) -> bool:
        if target == 0:
            return False
        if weight is not None and whole is not None:
            return weight * target <= whole * _SLACK
        return len(todo) + expanding >= target

    mine: tuple[int, Any] | None = None  # (index, part): the root part solved here
    if parts is None:
        todo.append((root, problem, whole))
    else:
        root.results = [None] * len(parts)
        root.waiting = len(parts)
        for index in reversed(range(len(parts))):  # the LIFO pops part 0 first
            todo.append((_Node(path=(index,), parent=root), parts[index], _weight(parts[index])))
        if in_caller and len(parts) <= cpus and all(whole_subtree(w) for _, _, w in todo):
            # the largest (its copies would cost most), the first of equals
            at = min(range(len(todo)), key=lambda i: (-(todo[i][2] or 0), todo[i][0].path))
            node, part, _ = todo.pop(at)
            mine = (node.path[0], part)
            root.waiting -= 1
        del parts

    def finish(node: _Node, result: ObjectRef) -> None:
        node.result = result
        parent = node.parent
        if parent is None:
            return
        parent.results[node.path[-1]] = result
        parent.waiting -= 1
        if not parent.waiting and parent is not root:
            combines.append(parent)

    here: Any = None
    while True:
        while len(running) < window and (combines or todo):
            if combines:  # first: they free their children's objects
                node = combines.pop()
                status, value = combine_task.remote(*node.results)
                running[status] = (node, "combine", value)
                continue
            node, part, weight = todo.pop()
            if whole_subtree(weight):
                status, value = subtree.remote(part, node.path)
                running[status] = (node, "subtree", value)
            else:
                generator = expand.remote(part)
                running[generator.completed()] = (node, "split", generator)
                expanding += 1
        if mine is not None:  # the tasks for the other parts are running meanwhile
            index, part = mine
            mine = None
            try:
                here = _local(fns, part, (index,))
            except Exception as exc:
                raise _note(exc, (index,), "split") from None
            del part
            continue
        if not running:
            break
        ready, _ = ray.wait(list(running), num_returns=1)
        for done in ready:
            node, stage, handle = running.pop(done)
            try:
                ray.get(done)
                if stage != "split":
                    node.results = []
                    finish(node, handle)
                    continue
                expanding -= 1
                refs = list(handle)
                count, weights = ray.get(refs[0])
            except Exception as exc:
                if stage != "split":
                    _fetched(handle)  # the same error: so Ray does not log it as unhandled
                raise _note(exc, node.path, stage) from None
            if count == 0:
                finish(node, refs[1])
                continue
            node.results = [None] * count
            node.waiting = count
            # reversed: the LIFO pops part 0 first
            for index in reversed(range(count)):
                child = _Node(path=(*node.path, index), parent=node)
                todo.append((child, refs[1 + index], weights[index]))
    if root.result is not None:
        return ray.get(root.result)
    fetched = iter(ray.get([ref for ref in root.results if ref is not None]))
    solutions = [here if ref is None else next(fetched) for ref in root.results]
    try:
        return combine(solutions)
    except Exception as exc:
        raise _note(exc, (), "combine") from None


__all__ = ["divide_and_conquer"]
