"""RAY201 redefine-task-actor-loop: ``@ray.remote`` applied inside a loop."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ray_patterns._findings import Edit, Fix
from ray_patterns.lint.core import Rule
from ray_patterns.lint.edits import (
    delete_lines,
    fresh_name,
    indent_of,
    insert_before,
    line_text,
    names_in,
    node_text,
    owns_lines,
    reindent,
    replace,
    starts_own_line,
)
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
        defs: list[ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef] = mod.of_type(
            ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef
        )
        for node in defs:
            if node.decorator_list:
                for dec in node.decorator_list:
                    if mod.is_remote_decorator(dec) and mod.loops_around(node):
                        what = "actor class" if isinstance(node, ast.ClassDef) else "task"
                        yield dec, self.message.format(what=what)
        for call, target in mod.remote_wraps:
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

    def fix(self, mod: Module, node: ast.AST) -> Fix | None:
        # Hoist a decorated def/class out of its loops. Safe when nothing it reads (body,
        # decorators, defaults, bases) is bound by the loops and its name is bound once:
        # then every iteration's definition is the same, so one before the loops is too.
        defn = mod.parents.get(node)
        if not isinstance(defn, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return _hoist_wrap(node, mod)
        loops = mod.loops_around(defn)
        if not loops or not all(isinstance(lp, (ast.For, ast.While)) for lp in loops):
            return None
        inner, outer = loops[0], loops[-1]
        assert isinstance(inner, (ast.For, ast.While)) and isinstance(outer, (ast.For, ast.While))
        if defn not in inner.body or len(mod.bindings(mod.scope_of(defn)).get(defn.name, [])) != 1:
            return None
        bound = set().union(*(stored_in_loop(lp, mod) for lp in loops))
        outside: list[ast.AST] = list(defn.decorator_list)
        if isinstance(defn, ast.ClassDef):
            outside += [*defn.bases, *defn.keywords]
        else:
            outside += [*defn.args.defaults, *(d for d in defn.args.kw_defaults if d)]
        if bound & (set(mod.outside_names(defn)) | names_in(outside)):
            return None
        first = defn.decorator_list[0].lineno
        if not owns_lines(mod, first, defn) or not starts_own_line(mod, outer):
            return None
        text = reindent(mod, first, defn, indent_of(mod, first), indent_of(mod, outer.lineno))
        if text is None:
            return None
        last = defn.end_lineno or defn.lineno
        if first - 1 > inner.lineno and not line_text(mod, first - 1).strip():
            first -= 1  # the blank line above it goes too
        removed = (
            delete_lines(first, last)
            if len(inner.body) > 1
            else Edit(first, 0, last + 1, 0, f"{indent_of(mod, first)}pass\n")
        )
        above = "\n" if line_text(mod, outer.lineno - 1).strip() else ""
        hoisted = Edit(outer.lineno, 0, outer.lineno, 0, above + text + "\n")
        return Fix(f"define {defn.name} once, before the loop", (hoisted, removed))


def _hoist_wrap(node: ast.AST, mod: Module) -> Fix | None:
    """``ray.remote(f)`` (or ``ray.remote(num_cpus=1)(f)``) in a loop -> ``f_remote =
    ray.remote(f)`` once above the loop, and the loop uses ``f_remote``. Safe when no
    name in the wrapping is bound by the loops: every iteration made the same thing."""
    wrap = node if isinstance(node, ast.Call) and mod.remote_wrap_target(node) else None
    if wrap is None:
        parent = mod.parents.get(node)
        if isinstance(parent, ast.Call) and parent.func is node:
            wrap = parent
    target = mod.remote_wrap_target(wrap) if wrap is not None else None
    loops = mod.loops_around(wrap) if wrap is not None else []
    if wrap is None or not isinstance(target, ast.Name) or not loops:
        return None
    bound = set().union(*(stored_in_loop(lp, mod) for lp in loops))
    anchor = mod.statement_of(loops[-1])
    if bound & names_in([wrap]) or not starts_own_line(mod, anchor):
        return None
    name = fresh_name(mod, f"{target.id}_remote")
    edits = (insert_before(mod, anchor, f"{name} = {node_text(mod, wrap)}"), replace(wrap, name))
    return Fix(f"apply ray.remote to {target.id} once, before the loop", edits)
