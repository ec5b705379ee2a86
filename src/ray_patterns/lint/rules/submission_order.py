"""RAY202 submission-order: ``ray.get`` on refs one by one in submission order."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ray_patterns._findings import Fix
from ray_patterns.lint.core import Rule
from ray_patterns.lint.edits import import_edit, node_text, replace
from ray_patterns.lint.flow import dict_values_of, ref_list
from ray_patterns.lint.model import COMPS, Module


class SubmissionOrder(Rule):
    """Iterating a list of refs and calling `ray.get` on each one in turn.

    ## What it does
    Flags `ray.get(ref)` inside a loop over a list that is certainly made of refs
    returned by `.remote(...)` calls (a comprehension, a list literal, or a list
    filled by `.append(f.remote(...))`). Loops over refs returned by `ray.wait`
    (already finished) are not flagged.

    ## Why is this bad?
    Tasks finish in any order. Waiting for them in submission order means a slow
    first task holds up the processing of every result that is already done.

    ## Example
    ```python
    refs = [work.remote(i) for i in range(100)]
    for ref in refs:
        process(ray.get(ref))
    ```

    ## Use instead
    Process results as they finish:
    ```python
    unfinished = [work.remote(i) for i in range(100)]
    while unfinished:
        [done], unfinished = ray.wait(unfinished, num_returns=1)
        process(ray.get(done))
    ```
    """

    code = "RAY202"
    name = "submission-order"
    message = (
        "ray.get() on each ref in submission order waits for stragglers while finished "
        "results sit unprocessed; process them as they finish with ray.wait(num_returns=1)"
    )

    def check(self, mod: Module) -> Iterator[tuple[ast.AST, str]]:
        for node in mod.nodes:
            iters: list[tuple[ast.expr, ast.expr, ast.AST]]
            if isinstance(node, (ast.For, ast.AsyncFor)):
                iters = [(node.iter, node.target, node)]
            elif isinstance(node, COMPS):
                iters = [(g.iter, g.target, node) for g in node.generators]
            else:
                continue
            for iterable, target, loop in iters:
                ref_name = _ref_target(iterable, target, mod)
                if ref_name is not None:
                    yield from self._gets(loop, ref_name, mod)

    def _gets(self, loop: ast.AST, ref_name: str, mod: Module) -> Iterator[tuple[ast.AST, str]]:
        parts = list(loop.body) if isinstance(loop, (ast.For, ast.AsyncFor)) else [loop]
        if _rebinds(loop, ref_name, mod):
            return
        for node in mod.walk_scope(parts):
            if (
                isinstance(node, ast.Call)
                and mod.is_ray_call(node, "get")
                and len(node.args) == 1
                and isinstance(node.args[0], ast.Name)
                and node.args[0].id == ref_name
                and loop in mod.loops_around(node)[:1]
                and not _no_processing(node, loop, mod)
            ):
                yield node, self.message

    def fix(self, mod: Module, node: ast.AST) -> Fix | None:
        # Walk the refs in the order they finish: ray_patterns.as_completed yields each
        # ref once it is ready, so the ray.get in the body no longer waits for
        # stragglers. Unsafe: the results are processed in another order.
        assert isinstance(node, ast.Call) and isinstance(node.args[0], ast.Name)
        name = node.args[0].id
        loop = mod.loops_around(node)[0]
        if isinstance(loop, (ast.For, ast.AsyncFor)):
            pairs = [(loop.target, loop.iter)]
        elif isinstance(loop, COMPS):
            pairs = [(g.target, g.iter) for g in loop.generators]
        else:
            return None
        found = [it for t, it in pairs if isinstance(t, ast.Name) and t.id == name]
        if not found:
            return None  # enumerate(refs) or d.items(): the pairing would need rewriting
        iterable = found[0]
        edits = [replace(iterable, f"ray_patterns.as_completed({node_text(mod, iterable)})")]
        if mod.imports.get("ray_patterns") != "ray_patterns":
            added = import_edit(mod, "ray_patterns")
            if added is None:
                return None
            edits.insert(0, added)
        title = "process the refs as they finish (ray_patterns.as_completed)"
        return Fix(title, tuple(edits), "unsafe")


def _ref_target(iterable: ast.AST, target: ast.AST, mod: Module) -> str | None:
    """The loop variable holding one ref, when the loop walks a known list or dict of refs.

    ``for r in refs``, ``for i, r in enumerate(refs)``, ``for r in d.values()``,
    ``for k, r in d.items()``.
    """
    if isinstance(target, ast.Name):
        if dict_values_of(iterable, mod, lenient=True) is not None:
            return target.id
        found = ref_list(iterable, mod, lenient=True)
        return target.id if found is not None and found.kind == "list" else None
    if not (
        isinstance(target, ast.Tuple)
        and len(target.elts) == 2
        and isinstance(target.elts[1], ast.Name)
        and isinstance(iterable, ast.Call)
    ):
        return None
    name = target.elts[1].id
    func = iterable.func
    if isinstance(func, ast.Name) and func.id == "enumerate" and len(iterable.args) == 1:
        found = ref_list(iterable.args[0], mod, lenient=True)
        return name if found is not None and found.kind == "list" else None
    if isinstance(func, ast.Attribute) and func.attr == "items" and not iterable.args:
        found = ref_list(func.value, mod, lenient=True)
        return name if found is not None and found.kind == "dict" else None
    return None


def _rebinds(loop: ast.AST, name: str, mod: Module) -> bool:
    if not isinstance(loop, (ast.For, ast.AsyncFor)):
        return False
    return any(
        isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store)
        for n in mod.walk_scope(loop.body)
    )


def _no_processing(get: ast.Call, loop: ast.AST, mod: Module) -> bool:
    """The value is dropped, or only collected: waiting in order then costs nothing."""
    parent = mod.parents.get(get)
    if isinstance(parent, ast.Expr):
        return True
    collected = (
        isinstance(parent, ast.Call)
        and isinstance(parent.func, ast.Attribute)
        and parent.func.attr == "append"
        and isinstance(mod.parents.get(parent), ast.Expr)
    )
    if isinstance(loop, (ast.For, ast.AsyncFor)):
        return collected and len(loop.body) == 1
    return isinstance(loop, ast.ListComp) and loop.elt is get
