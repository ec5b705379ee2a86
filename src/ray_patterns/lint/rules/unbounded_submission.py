"""RAY302 unbounded-submission: a loop submitting large arguments with no ``ray.wait``."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ray_patterns._units import LARGE_OBJECT_BYTES, MANY_ITEMS
from ray_patterns.lint.core import Rule
from ray_patterns.lint.flow import is_inside, loop_count
from ray_patterns.lint.model import COMPS, Module
from ray_patterns.lint.sizes import estimate_bytes, size_text

_ENDLESS = 10**18


class UnboundedSubmission(Rule):
    """A loop submitting tasks with large arguments, keeping every ref, never waiting.

    ## What it does
    Flags a `.remote(...)` call inside a loop over at least `large-iterable` items
    (or an endless one: `while True`, `itertools.count()`) when one of its
    arguments is a large object built in the loop (at least `large-object-bytes`),
    every ref is kept (a list comprehension or `.append`), and nothing in the loop
    calls `ray.wait` or `ray.get` to bound the number of tasks in flight. With
    small arguments, a `for`/`while` loop that keeps every ref is flagged when it
    submits at least `large-iterable` actor calls (they queue on one actor) or at
    least `many-submissions` tasks.

    ## Why is this bad?
    Submitting is much faster than running: every pending task keeps its
    arguments in the object store, which fills up and spills to disk, or the
    driver runs out of memory, long before the tasks catch up.

    ## Example
    ```python
    refs = []
    for i in range(100_000):
        refs.append(process.remote(np.random.rand(1000, 1000)))
    ```

    ## Use instead
    Keep at most N tasks in flight with `ray.wait` (backpressure):
    ```python
    refs = []
    for i in range(100_000):
        if len(refs) >= 100:
            ready, refs = ray.wait(refs, num_returns=1)
            ray.get(ready)
        refs.append(process.remote(np.random.rand(1000, 1000)))
    ```
    """

    code = "RAY302"
    name = "unbounded-submission"
    message = (
        "{count} submissions with ~{size} arguments and no ray.wait() keep every task in flight "
        "at once; bound the number in flight with ray.wait()"
    )
    many_message = (
        "{count} {what} submitted in a loop that keeps every ref and never waits pile up "
        "pending in the cluster; bound the number in flight with ray.wait()"
    )
    defaults = {
        "large_iterable": MANY_ITEMS,
        "large_object_bytes": LARGE_OBJECT_BYTES,
        "many_submissions": 10 * MANY_ITEMS,
    }

    def check(self, mod: Module) -> Iterator[tuple[ast.AST, str]]:
        for call in mod.submissions:
            if not mod.is_ref_submission(call):
                continue
            loops = mod.loops_around(call)
            if not loops:
                continue
            loop = loops[0]
            count = _count(loop, mod)
            if count is None or count < self.settings["large_iterable"]:
                continue
            if not _kept(call, loop, mod) or _bounded(loop, mod):
                continue
            shown = "unbounded" if count >= _ENDLESS else f"{count:,}"
            size = self._largest_fresh_arg(call, loop, mod)
            if size is not None:
                yield call, self.message.format(count=shown, size=size_text(size))
            elif self._many(call, loop, count, mod):
                what = "actor calls" if _actor_call(call, mod) else "tasks"
                yield call, self.many_message.format(count=shown, what=what)

    def _many(self, call: ast.Call, loop: ast.AST, count: int, mod: Module) -> bool:
        """Small arguments: a statement loop that keeps thousands of actor calls (queued
        on one actor) or very many tasks in flight. A comprehension is the usual
        submit-then-get idiom and is left alone."""
        if isinstance(loop, COMPS):
            return False
        if _actor_call(call, mod):
            return True
        return count >= self.settings["many_submissions"]

    def _largest_fresh_arg(self, call: ast.Call, loop: ast.AST, mod: Module) -> int | None:
        best: int | None = None
        for arg in [*call.args, *(kw.value for kw in call.keywords)]:
            expr: ast.AST = arg
            if isinstance(arg, ast.Name):
                value = mod.resolve_value(arg)
                # bound outside the loop: the same object each time (pass-large-arg-by-value)
                if value is None or not is_inside(value, loop, mod):
                    continue
                expr = value
            size = estimate_bytes(expr, mod)
            if size is not None and size >= self.settings["large_object_bytes"]:
                best = max(best or 0, size)
        return best


def _count(loop: ast.AST, mod: Module) -> int | None:
    if isinstance(loop, ast.While):
        test = loop.test
        if isinstance(test, ast.Constant) and test.value is True:
            has_break = any(isinstance(n, ast.Break) for n in mod.walk_scope(loop.body))
            return None if has_break else _ENDLESS
        return None
    return loop_count(loop, mod)


def _actor_call(call: ast.Call, mod: Module) -> bool:
    """``handle.method.remote(...)`` (not a known task)."""
    receiver = call.func.value  # type: ignore[attr-defined]
    return (
        isinstance(receiver, ast.Attribute)
        and receiver.attr != "options"
        and mod.submitted(call) is None
    )


def _kept(call: ast.Call, loop: ast.AST, mod: Module) -> bool:
    parent = mod.parents.get(call)
    if isinstance(loop, COMPS):
        return isinstance(loop, ast.ListComp) and parent is loop
    return (
        isinstance(parent, ast.Call)
        and isinstance(parent.func, ast.Attribute)
        and parent.func.attr == "append"
        and any(a is call for a in parent.args)
    )


def _bounded(loop: ast.AST, mod: Module) -> bool:
    parts = list(loop.body) if isinstance(loop, (ast.For, ast.AsyncFor, ast.While)) else [loop]
    return any(mod.is_ray_call(n, "wait", "get") for n in mod.walk_scope(parts))
