"""RAY103 unnecessary-ray-get: a ``ray.get`` value only passed on to ``.remote``."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ray_patterns._findings import Fix
from ray_patterns.lint.core import Rule
from ray_patterns.lint.edits import node_text, replace
from ray_patterns.lint.flow import is_ref, ref_list
from ray_patterns.lint.model import Module


class UnnecessaryRayGet(Rule):
    """A value fetched with `ray.get` only to be passed into another `.remote(...)` call.

    ## What it does
    Flags `ray.get(ref)` whose value is used only as a direct argument of
    `.remote(...)` calls: `g.remote(ray.get(ref))`, or `x = ray.get(ref)` where
    every later use of `x` is a direct argument of a `.remote(...)` call. The same
    for `ray.get(refs)` of a list that is certainly refs (built by a comprehension
    or loop of `.remote(...)` calls): its values make the same round trip.

    ## Why is this bad?
    The value travels from the producer to the driver and back to the consumer,
    and the driver waits for it. Passed as an `ObjectRef`, Ray ships it straight
    from the producer to the consumer and the driver never blocks.

    ## Example
    ```python
    data = ray.get(load.remote())
    result = process.remote(data)
    ```

    ## Use instead
    Pass the ref; Ray resolves top-level ref arguments before the task runs:
    ```python
    result = process.remote(load.remote())
    ```
    For a list, pass the refs as top-level arguments (`def process(*parts)`):
    ```python
    result = process.remote(*[load.remote(i) for i in range(8)])
    ```
    """

    code = "RAY103"
    name = "unnecessary-ray-get"
    needs = (("remote",), ("ray.get",))
    message = (
        "the value of ray.get() is only passed on to .remote() calls; pass the ObjectRef "
        "itself so the data goes straight from producer to consumer"
    )
    many_message = (
        "the values of ray.get() on a list of refs are only passed on to .remote() calls; "
        "pass the refs as top-level arguments (f.remote(*refs)) so the data goes straight "
        "from the producers to the consumer"
    )

    def check(self, mod: Module) -> Iterator[tuple[ast.AST, str]]:
        for call in mod.calls:
            if len(call.args) != 1 or call.keywords or not mod.is_ray_call(call, "get"):
                continue
            if is_ref(call.args[0], mod, lenient=True):
                message = self.message
            elif ref_list(call.args[0], mod, lenient=True) is not None:
                # a list the code builds of refs: its values go through the driver too
                message = self.many_message
            else:
                continue
            parent = mod.parents.get(call)
            if _is_direct_arg(call, parent, mod):
                yield call, message
                continue
            if (
                isinstance(parent, ast.Assign)
                and len(parent.targets) == 1
                and isinstance(parent.targets[0], ast.Name)
            ):
                name = parent.targets[0].id
                scope = mod.scope_of(call)
                if isinstance(scope, ast.ClassDef):
                    continue
                # the reads this binding reaches (the name may be rebound before or after)
                uses = [
                    u
                    for u in mod.name_uses(scope, name)
                    if any(v is call for v in mod.reaching(u) or ())
                ]
                if uses and all(_is_direct_arg(u, mod.parents.get(u), mod) for u in uses):
                    yield call, message

    def fix(self, mod: Module, node: ast.AST) -> Fix | None:
        # ray.get(ref) -> ref. Safe: every use is a top-level argument of .remote(), and
        # Ray resolves top-level ObjectRef arguments to their values before the task runs.
        assert isinstance(node, ast.Call)
        if not is_ref(node.args[0], mod, lenient=True):
            return None  # a list: the fix changes the consumer's signature (*refs)
        edit = replace(node, node_text(mod, node.args[0]))
        return Fix("pass the ObjectRef itself instead of its ray.get() value", (edit,))


def _is_direct_arg(node: ast.AST, parent: ast.AST | None, mod: Module) -> bool:
    """Is ``node`` a positional or keyword argument of a ``.remote(...)`` call itself?"""
    if isinstance(parent, ast.keyword):
        grand = mod.parents.get(parent)
        return grand is not None and mod.is_submission(grand)
    return (
        isinstance(parent, ast.Call)
        and mod.is_submission(parent)
        and any(a is node for a in parent.args)
    )
