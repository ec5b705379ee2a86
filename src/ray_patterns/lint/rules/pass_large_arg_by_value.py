"""RAY401 pass-large-arg-by-value: one large object passed by value to many tasks."""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator

from ray_patterns._findings import Fix
from ray_patterns._units import LARGE_OBJECT_BYTES
from ray_patterns.lint.core import Rule
from ray_patterns.lint.edits import (
    fresh_name,
    insert_before,
    ray_name,
    replace,
    runs_after,
    starts_own_line,
)
from ray_patterns.lint.flow import is_inside
from ray_patterns.lint.model import Module
from ray_patterns.lint.sizes import estimate_bytes, size_text


class PassLargeArgByValue(Rule):
    """The same large object passed by value to many `.remote(...)` calls.

    ## What it does
    Flags a `.remote(...)` call that passes a name bound to a large object (at least
    `large-object-bytes`) when the call runs in a loop that does not rebind the
    name, or when the same name goes to several `.remote(...)` calls in one scope.

    ## Why is this bad?
    Each `.remote(...)` call puts its by-value arguments into the object store
    again: N calls store N copies of the same object, costing time and memory.

    ## Example
    ```python
    weights = np.zeros((10_000, 1_000))
    refs = [score.remote(weights, i) for i in range(100)]
    ```

    ## Use instead
    `ray.put` it once and pass the ref:
    ```python
    weights_ref = ray.put(np.zeros((10_000, 1_000)))
    refs = [score.remote(weights_ref, i) for i in range(100)]
    ```
    """

    code = "RAY401"
    name = "pass-large-arg-by-value"
    message = (
        "{name!r} (~{size}) is passed by value to .remote() {why}, so it is stored again "
        "each time; ray.put() it once and pass the ref"
    )
    defaults = {"large_object_bytes": LARGE_OBJECT_BYTES}

    def check(self, mod: Module) -> Iterator[tuple[ast.AST, str]]:
        # (scope, name) -> calls passing it, to find repeats outside loops
        passes: dict[tuple[int, str], list[tuple[ast.Call, int]]] = defaultdict(list)
        for call in mod.submissions:
            for arg in [*call.args, *(kw.value for kw in call.keywords)]:
                if not isinstance(arg, ast.Name):
                    continue
                value = mod.resolve_value(arg)
                if value is None:
                    continue
                size = estimate_bytes(value, mod)
                if size is None or size < self.settings["large_object_bytes"]:
                    continue
                loops = mod.loops_around(call)
                if loops and not any(is_inside(value, loop, mod) for loop in loops):
                    message = self.message.format(
                        name=arg.id, size=size_text(size), why="in a loop"
                    )
                    yield call, message
                    break
                passes[(id(mod.scope_of(call)), arg.id)].append((call, size))
        for (_, name), calls in passes.items():
            if len(calls) < 2:
                continue
            for call, size in calls:
                why = f"by {len(calls)} calls"
                yield call, self.message.format(name=name, size=size_text(size), why=why)

    def fix(self, mod: Module, node: ast.AST) -> Fix | None:
        # name_ref = ray.put(name) once, above the loop (or the first of the calls), and
        # every .remote() there passes name_ref: Ray hands each task the stored value,
        # as it did with the by-value copy. Safe when nothing changes the object in
        # between (no rebinding: the rule saw one binding; no mutation in its scope).
        assert isinstance(node, ast.Call)
        big = [
            arg
            for arg in [*node.args, *(kw.value for kw in node.keywords)]
            if isinstance(arg, ast.Name) and self._large(arg, mod)
        ]
        ray = ray_name(mod)
        if not big or ray is None:
            return None
        name = big[0].id
        scope = mod.scope_of(node)
        value = mod.resolve_value(big[0])
        if value is None or isinstance(scope, ast.Lambda):
            return None
        everywhere = [
            n
            for n in mod.walk_scope(scope.body)
            if isinstance(n, ast.Name) and n.id == name and _is_submission_arg(n, mod)
        ]
        loops = mod.loops_around(node)
        # one put for all the calls in the function if it can go above all of them,
        # else one above this loop
        tries = [everywhere]
        if loops:
            tries.append([n for n in everywhere if is_inside(n, loops[-1], mod)])
        for uses in tries:
            uses.sort(key=lambda n: (n.lineno, n.col_offset))
            outer = mod.loops_around(uses[0])
            anchor = mod.statement_of(outer[-1] if outer else uses[0])
            if (
                starts_own_line(mod, anchor)
                and not (mod.scope_of(value) is scope and value.lineno >= anchor.lineno)
                and all(runs_after(mod, anchor, u) for u in uses)
            ):
                break
        else:
            return None
        ref = fresh_name(mod, f"{name}_ref")
        edits = [insert_before(mod, anchor, f"{ref} = {ray}.put({name})")]
        edits += [replace(u, ref) for u in uses]
        mutated = mod.mutations_of(name, scope)
        return Fix(
            f"ray.put {name} once and pass the ref",
            tuple(edits),
            "unsafe" if mutated else "safe",
        )

    def _large(self, arg: ast.Name, mod: Module) -> bool:
        value = mod.resolve_value(arg)
        size = None if value is None else estimate_bytes(value, mod)
        return size is not None and size >= self.settings["large_object_bytes"]


def _is_submission_arg(name: ast.Name, mod: Module) -> bool:
    parent = mod.parents.get(name)
    if isinstance(parent, ast.keyword):
        parent = mod.parents.get(parent)
    elif not (isinstance(parent, ast.Call) and any(a is name for a in parent.args)):
        return False
    return parent is not None and mod.is_submission(parent)
