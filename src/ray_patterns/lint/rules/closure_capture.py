"""RAY104 closure-capture: remote code that captures a large object from outside."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ray_patterns._findings import Edit, Fix
from ray_patterns._units import LARGE_OBJECT_BYTES
from ray_patterns.lint.core import Rule
from ray_patterns.lint.edits import (
    fresh_name,
    insert_before,
    node_text,
    ray_name,
    starts_own_line,
    task_calls,
)
from ray_patterns.lint.model import Module
from ray_patterns.lint.sizes import LARGE_UNKNOWN, estimate_bytes, size_text


class ClosureCapture(Rule):
    """A remote function or actor class that uses a large object defined outside it.

    ## What it does
    Flags the first use, inside a `@ray.remote` function or actor class, of a name
    bound in the module or an enclosing function to a large object: an array or
    frame of at least `large-object-bytes` (from literal shapes), a model or data
    loaded from disk (`torch.load`, `np.load`, `pd.read_csv`, `from_pretrained`),
    or a big literal or comprehension built at import. Constants are not flagged.

    ## Why is this bad?
    Ray pickles the definition together with what it captures (always for closures
    and for code in `__main__` or a notebook) and ships it to every worker: slow,
    and for very large objects a `MemoryError` or a failed export.

    ## Example
    ```python
    table = np.zeros((10_000, 10_000))

    @ray.remote
    def lookup(i):
        return table[i]
    ```

    ## Use instead
    `ray.put` the object once and pass the ref, or build it inside the task:
    ```python
    table_ref = ray.put(np.zeros((10_000, 10_000)))

    @ray.remote
    def lookup(table, i):
        return table[i]

    lookup.remote(table_ref, 3)
    ```
    """

    code = "RAY104"
    name = "closure-capture"
    message = (
        "remote code captures {name!r} ({size}) from the enclosing scope and ships it "
        "with its definition; ray.put() it and pass the ref, or build it inside"
    )
    defaults = {"large_object_bytes": LARGE_OBJECT_BYTES}

    def check(self, mod: Module) -> Iterator[tuple[ast.AST, str]]:
        for remote in mod.remote_defs:
            if not self._may_capture(remote.node, mod):
                continue  # no large outside value is read: skip its symbol table
            for name, where in sorted(mod.outside_names(remote.node).items()):
                values = mod.binding_of(remote.node, name, where)
                if not values or any(v is None for v in values):
                    continue
                sizes = [estimate_bytes(v, mod) for v in values if v is not None]
                if any(s is None for s in sizes):
                    continue
                size = min(s for s in sizes if s is not None)
                if size < self.settings["large_object_bytes"]:
                    continue
                uses = [u for u in mod.name_uses(remote.node, name) if not _is_decorator(u, mod)]
                if uses:
                    shown = "loaded data" if size >= LARGE_UNKNOWN else f"~{size_text(size)}"
                    yield uses[0], self.message.format(name=name, size=shown)

    def _may_capture(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, mod: Module
    ) -> bool:
        """Does ``node`` read a name that the module or a function around it binds to
        large values only? (What ``check`` needs of an outside name, wherever it is
        bound.)"""
        scopes = [s for s in mod.enclosing_scopes(node) if not isinstance(s, ast.Module)]
        tables = [mod.bindings(mod.tree), *(mod.bindings(s) for s in scopes)]
        for name in mod.loaded_names(node):
            for table in tables:
                values = table.get(name)
                if not values or any(v is None for v in values):
                    continue
                sizes = [estimate_bytes(v, mod) for v in values if v is not None]
                if (
                    all(s is not None for s in sizes)
                    and min(s for s in sizes if s is not None)
                    >= self.settings["large_object_bytes"]
                ):
                    return True
        return False

    def fix(self, mod: Module, node: ast.AST) -> Fix | None:
        # The task takes the object as a keyword-only parameter of the same name (so its
        # body is unchanged); each call passes name=name_ref, put once above the call's
        # outermost loop. Unsafe: the task sees the object as it is when put (not when
        # exported), and callers in other files must pass it too.
        assert isinstance(node, ast.Name)
        fn = mod.function_of(node)
        calls = task_calls(mod, fn) if fn is not None else None
        ray = ray_name(mod)
        if calls is None or ray is None or not isinstance(fn, ast.FunctionDef):
            return None
        name, args = node.id, fn.args
        if mod.outside_names(fn).get(name) != "global":
            return None
        if args.vararg or args.kwonlyargs or args.kwarg or not (args.posonlyargs or args.args):
            return None
        last = [*args.posonlyargs, *args.args][-1]
        tail = args.defaults[-1] if args.defaults else last
        line, col = max(
            (last.end_lineno or 0, last.end_col_offset or 0),
            (tail.end_lineno or 0, tail.end_col_offset or 0),
        )
        ref = fresh_name(mod, f"{name}_ref")
        edits = [Edit(line, col, line, col, f", *, {name}")]
        anchors: dict[int, ast.stmt] = {}
        for call in calls:
            scope = mod.scope_of(call)
            if scope is not mod.tree and name in mod.bindings(scope):
                return None  # the name means something else where the task is called
            loops = mod.loops_around(call)
            anchor = mod.statement_of(loops[-1] if loops else call)
            if not starts_own_line(mod, anchor):
                return None
            anchors[id(anchor)] = anchor
            before = node_text(mod, call)[:-1].rstrip()
            comma = "" if before.endswith(("(", ",")) else ", "
            line, col = call.end_lineno or call.lineno, (call.end_col_offset or 1) - 1
            edits.append(Edit(line, col, line, col, f"{comma}{name}={ref}"))
        edits += [insert_before(mod, a, f"{ref} = {ray}.put({name})") for a in anchors.values()]
        return Fix(f"ray.put {name} and pass the ref to {fn.name}", tuple(edits), "unsafe")


def _is_decorator(node: ast.AST, mod: Module) -> bool:
    child, parent = node, mod.parents.get(node)
    while parent is not None:
        if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return child in parent.decorator_list
        child, parent = parent, mod.parents.get(parent)
    return False
