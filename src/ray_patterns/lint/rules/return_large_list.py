"""RAY406 return-large-list: a task that builds and returns a list of large objects."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ray_patterns._units import LARGE_OBJECT_BYTES
from ray_patterns.lint.core import Rule
from ray_patterns.lint.model import COMPS, FunctionNode, Module, walk
from ray_patterns.lint.sizes import estimate_bytes, size_text


class ReturnLargeList(Rule):
    """A task or actor method that builds a list of large objects and returns it.

    ## What it does
    Flags the `return` of a list built in a loop or a comprehension, in remote
    code, when each item is a large object (at least `large-object-bytes`, from
    literal shapes: `np.zeros((1000, 1000))`, `np.random.rand(...)`, ...):
    `return [make() for _ in range(n)]`, or `out = []` filled by
    `out.append(...)` and returned.

    ## Why is this bad?
    Every item lives in the worker's heap until the task returns, so its peak
    memory is the whole list: a task that returns ten 1 GiB arrays needs 10 GiB,
    and dies out of memory where a generator would need one.

    ## Example
    ```python
    @ray.remote
    def chunks(n):
        return [np.random.rand(1000, 1000) for _ in range(n)]
    ```

    ## Use instead
    Make the task a generator: Ray stores each object as it is yielded, and the
    caller can start on the first before the last exists:
    ```python
    @ray.remote
    def chunks(n):
        for _ in range(n):
            yield np.random.rand(1000, 1000)

    for ref in chunks.remote(10):
        process(ray.get(ref))
    ```

    ## References
    - Ray: https://docs.ray.io/en/latest/ray-core/patterns/generators.html
    """

    code = "RAY406"
    name = "return-large-list"
    message = (
        "remote code returns a list of large objects (~{size} each) that all sit in the "
        "worker's heap at once; yield them one at a time from a generator task instead"
    )
    defaults = {"large_object_bytes": LARGE_OBJECT_BYTES}

    def check(self, mod: Module) -> Iterator[tuple[ast.AST, str]]:
        for remote in mod.remote_defs:
            node = remote.node
            fns: list[FunctionNode]
            if isinstance(node, ast.ClassDef):
                fns = [
                    f for f in node.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                ]
            else:
                fns = [node]
            for fn in fns:
                for ret in mod.body_nodes(fn):
                    if isinstance(ret, ast.Return) and ret.value is not None:
                        size = self._item_size(ret.value, mod)
                        if size is not None and size >= self.settings["large_object_bytes"]:
                            yield ret, self.message.format(size=size_text(size))

    @staticmethod
    def _item_size(value: ast.expr, mod: Module) -> int | None:
        if isinstance(value, ast.ListComp) and not any(
            isinstance(n, ast.Call) and mod.is_ray_call(n, "put") for n in walk(value.elt)
        ):
            return estimate_bytes(value.elt, mod)
        if not isinstance(value, ast.Name):
            return None
        values = mod.reaching(value)
        if not values or len(values) != 1 or not isinstance(values[0], ast.List):
            return None
        bound = values[0]
        if bound.elts:
            return None
        mutations = mod.live_mutations(value, bound)
        sizes: list[int] = []
        for m in mutations:
            if not (
                isinstance(m, ast.Call)
                and isinstance(m.func, ast.Attribute)
                and m.func.attr == "append"
                and len(m.args) == 1
                and mod.loops_around(m)
                and not isinstance(mod.loops_around(m)[0], COMPS)
            ):
                return None
            size = estimate_bytes(m.args[0], mod)
            if size is None:
                return None
            sizes.append(size)
        return min(sizes) if sizes else None
