"""RAY104 closure-capture: remote code that captures a large object from outside."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ray_patterns._units import LARGE_OBJECT_BYTES
from ray_patterns.lint.core import Rule
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


def _is_decorator(node: ast.AST, mod: Module) -> bool:
    child, parent = node, mod.parents.get(node)
    while parent is not None:
        if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return child in parent.decorator_list
        child, parent = parent, mod.parents.get(parent)
    return False
