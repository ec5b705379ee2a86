"""RAY202 submission-order: ``ray.get`` on refs one by one in submission order."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator

from ray_patterns._findings import Fix
from ray_patterns.lint.core import Rule
from ray_patterns.lint.edits import import_edit, node_text, replace
from ray_patterns.lint.flow import bound_ref_list, dict_values_of, is_inside, is_timed, ref_list
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
    needs = (("remote",), ("ray.get",))
    message = (
        "ray.get() on each ref in submission order waits for stragglers while finished "
        "results sit unprocessed; process them as they finish with ray.wait(num_returns=1)"
    )

    def check(self, mod: Module) -> Iterator[tuple[ast.AST, str]]:
        loops = mod.of_type(ast.For, ast.AsyncFor, ast.While, *COMPS)
        loops.sort(key=lambda n: (n.lineno, n.col_offset))  # type: ignore[attr-defined]
        for node in loops:
            iters: list[tuple[ast.expr, ast.expr, ast.AST]]
            if isinstance(node, (ast.For, ast.AsyncFor)):
                iters = [(node.iter, node.target, node)]
            elif isinstance(node, COMPS):
                iters = [(g.iter, g.target, node) for g in node.generators]
            elif isinstance(node, ast.While):
                yield from self._drained(node, mod)
                continue
            else:
                continue
            for iterable, target, loop in iters:
                ref_name = _ref_target(iterable, target, mod)
                if ref_name is not None:
                    if not _rebinds(loop, ref_name, mod):
                        yield from self._gets(loop, _is_name(ref_name), mod)
                    continue
                indexed = _indexed_target(iterable, target, mod)
                if indexed is not None and not _rebinds(loop, indexed[1], mod):
                    yield from self._gets(loop, _is_item(*indexed), mod)

    def _gets(
        self, loop: ast.AST, match: Callable[[ast.expr], bool], mod: Module
    ) -> Iterator[tuple[ast.AST, str]]:
        parts = list(loop.body) if isinstance(loop, (ast.For, ast.AsyncFor, ast.While)) else [loop]
        for node in mod.walk_scope(parts):
            if (
                isinstance(node, ast.Call)
                and mod.is_ray_call(node, "get")
                and len(node.args) == 1
                and not node.keywords
                and match(node.args[0])
                and loop in mod.loops_around(node)[:1]
                and not _no_processing(node, loop, mod)
                and not is_timed(node, loop, mod)
            ):
                yield node, self.message

    def _drained(self, loop: ast.While, mod: Module) -> Iterator[tuple[ast.AST, str]]:
        """``while refs: x = ray.get(refs[0]); refs = refs[1:]`` (or ``refs.pop(0)``)."""
        test = loop.test
        if isinstance(test, ast.Compare) and len(test.ops) == 1:
            test = test.left
        if isinstance(test, ast.Call) and isinstance(test.func, ast.Name) and test.args:
            if test.func.id == "len":
                test = test.args[0]
        if not isinstance(test, ast.Name):
            return
        name = test.id
        values = mod.reaching(test)
        if not values or any(v is None for v in values):
            return
        outside = [v for v in values if v is not None and not is_inside(v, loop, mod)]
        inside = [v for v in values if v is not None and is_inside(v, loop, mod)]
        if not outside or not all(_tail_of(v, name) for v in inside):
            return
        if any(bound_ref_list(test, v, mod, lenient=True) is None for v in outside):
            return
        yield from self._gets(loop, _is_head(name), mod)

    def fix(self, mod: Module, node: ast.AST) -> Fix | None:
        # Walk the refs in the order they finish: ray_patterns.as_completed yields each
        # ref once it is ready, so the ray.get in the body no longer waits for
        # stragglers. Unsafe: the results are processed in another order.
        if not (isinstance(node, ast.Call) and isinstance(node.args[0], ast.Name)):
            return None  # refs[i], refs.pop(0), d[k]: no rewrite
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
    return name in _stored_in_body(loop, mod)


def _stored_in_body(loop: ast.For | ast.AsyncFor, mod: Module) -> set[str]:
    return mod.cache(
        ("stored_in_body", id(loop)),
        lambda: {
            n.id
            for n in mod.walk_scope(loop.body)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
        },
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
    if isinstance(loop, (ast.For, ast.AsyncFor, ast.While)):
        return collected and len(loop.body) == 1
    return False  # ``[ray.get(r) for r in refs]`` waits for each in turn


def _is_name(name: str) -> Callable[[ast.expr], bool]:
    return lambda arg: isinstance(arg, ast.Name) and arg.id == name


def _is_item(container: str, key: str) -> Callable[[ast.expr], bool]:
    """``refs[i]`` / ``d[k]`` for the loop's index or key variable."""
    return lambda arg: (
        isinstance(arg, ast.Subscript)
        and isinstance(arg.value, ast.Name)
        and arg.value.id == container
        and isinstance(arg.slice, ast.Name)
        and arg.slice.id == key
    )


def _is_head(name: str) -> Callable[[ast.expr], bool]:
    """``refs[0]`` or ``refs.pop(0)``: the oldest submission first."""

    def match(arg: ast.expr) -> bool:
        if isinstance(arg, ast.Subscript):
            index = arg.slice
        elif (
            isinstance(arg, ast.Call)
            and isinstance(arg.func, ast.Attribute)
            and arg.func.attr == "pop"
            and len(arg.args) == 1
        ):
            index, arg = arg.args[0], arg.func  # type: ignore[assignment]
        else:
            return False
        return (
            isinstance(arg.value, ast.Name)  # type: ignore[attr-defined]
            and arg.value.id == name  # type: ignore[attr-defined]
            and isinstance(index, ast.Constant)
            and index.value == 0
        )

    return match


def _tail_of(value: ast.expr, name: str) -> bool:
    """``name[1:]``: the list without its head."""
    return (
        isinstance(value, ast.Subscript)
        and isinstance(value.value, ast.Name)
        and value.value.id == name
        and isinstance(value.slice, ast.Slice)
        and isinstance(value.slice.lower, ast.Constant)
        and value.slice.lower.value == 1
        and value.slice.upper is None
    )


def _indexed_target(iterable: ast.AST, target: ast.AST, mod: Module) -> tuple[str, str] | None:
    """(container, loop variable) for ``for i in range(len(refs))`` over a list of refs,
    and ``for k in d`` / ``d.keys()`` / ``sorted(d)`` over a dict of refs."""
    if not isinstance(target, ast.Name) or not isinstance(iterable, ast.expr):
        return None
    inner: ast.AST = iterable
    if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name) and len(inner.args) == 1:
        if inner.func.id == "range":
            arg = inner.args[0]
            if (
                isinstance(arg, ast.Call)
                and isinstance(arg.func, ast.Name)
                and arg.func.id == "len"
                and len(arg.args) == 1
                and isinstance(arg.args[0], ast.Name)
            ):
                found = ref_list(arg.args[0], mod, lenient=True)
                if found is not None and found.kind == "list":
                    return arg.args[0].id, target.id
            return None
        if inner.func.id in ("sorted", "list"):
            inner = inner.args[0]
    if (
        isinstance(inner, ast.Call)
        and isinstance(inner.func, ast.Attribute)
        and inner.func.attr == "keys"
        and not inner.args
    ):
        inner = inner.func.value
    if isinstance(inner, ast.Name):
        found = ref_list(inner, mod, lenient=True)
        if found is not None and found.kind == "dict":
            return inner.id, target.id
    return None
