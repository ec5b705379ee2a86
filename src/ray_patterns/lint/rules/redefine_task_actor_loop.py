"""RAY201 redefine-task-actor-loop: ``@ray.remote`` applied inside a loop."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ray_patterns.lint.core import Rule
from ray_patterns.lint.flow import stored_in_loop
from ray_patterns.lint.model import Module


class RedefineTaskActorLoop(Rule):
    """`@ray.remote` or `ray.remote(...)` inside a loop body.

    ## What it does
    Flags a `@ray.remote` decorator on a `def` or `class` inside a loop, and a
    `ray.remote(f)` / `ray.remote(num_cpus=...)(f)` call inside a loop when `f` is
    the same every iteration. A definition inside a function that is merely called
    once is not flagged.

    ## Why is this bad?
    Each application of `ray.remote` creates a new remote function or actor class
    that Ray pickles and exports to the cluster again: slow, and the exports pile
    up in the GCS.

    ## Example
    ```python
    for item in items:
        @ray.remote
        def work(x):
            return x + 1
        refs.append(work.remote(item))
    ```

    ## Use instead
    Define it once, outside the loop (use `.options(...)` to vary resources):
    ```python
    @ray.remote
    def work(x):
        return x + 1

    refs = [work.remote(item) for item in items]
    ```
    """

    code = "RAY201"
    name = "redefine-task-actor-loop"
    message = (
        "ray.remote inside a loop re-creates and re-exports the {what} on every iteration; "
        "define it once outside the loop (use .options() to vary resources)"
    )

    def check(self, mod: Module) -> Iterator[tuple[ast.AST, str]]:
        for node in mod.nodes:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                for dec in node.decorator_list:
                    if mod.is_remote_decorator(dec) and mod.loops_around(node):
                        what = "actor class" if isinstance(node, ast.ClassDef) else "task"
                        yield dec, self.message.format(what=what)
        for call in mod.calls:
            target = mod.remote_wrap_target(call)
            if target is None:
                continue
            loops = mod.loops_around(call)
            if not loops:
                continue
            if isinstance(target, ast.Name):
                if any(target.id in stored_in_loop(loop, mod) for loop in loops):
                    continue
            elif not isinstance(target, ast.Lambda):
                continue
            shown = call if mod.qualname(call.func) == "ray.remote" else call.func
            yield shown, self.message.format(what="remote function")
