"""RAY401 pass-large-arg-by-value: one large object passed by value to many tasks."""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator

from ray_patterns.lint.core import Rule
from ray_patterns.lint.flow import is_inside
from ray_patterns.lint.model import Module
from ray_patterns.lint.sizes import estimate_bytes, human_bytes


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
    defaults = {"large_object_bytes": 1_000_000}

    def check(self, mod: Module) -> Iterator[tuple[ast.AST, str]]:
        # (scope, name) -> calls passing it, to find repeats outside loops
        passes: dict[tuple[int, str], list[tuple[ast.Call, int]]] = defaultdict(list)
        for call in mod.calls:
            if not mod.is_submission(call):
                continue
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
                        name=arg.id, size=human_bytes(size), why="in a loop"
                    )
                    yield call, message
                    break
                passes[(id(mod.scope_of(call)), arg.id)].append((call, size))
        for (_, name), calls in passes.items():
            if len(calls) < 2:
                continue
            for call, size in calls:
                why = f"by {len(calls)} calls"
                yield call, self.message.format(name=name, size=human_bytes(size), why=why)
