"""RAY402 return-ray-put: a task returning ``ray.put(...)``."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ray_patterns.lint.core import Rule
from ray_patterns.lint.model import Module


class ReturnRayPut(Rule):
    """A task or actor method that returns `ray.put(...)` refs.

    ## What it does
    Flags `ray.put(...)` calls in a `return` of remote code: `return ray.put(x)`,
    a list or tuple of them, or a name bound once to `ray.put(...)` and returned.

    ## Why is this bad?
    The task's return value is already stored in the object store. Returning a
    `ray.put` ref stores the data once more, makes the caller `ray.get` twice, and
    ties the object's lifetime to the worker that put it: if that worker dies the
    object is lost, and lineage reconstruction cannot bring it back.

    ## Example
    ```python
    @ray.remote
    def make():
        return ray.put(np.zeros(10_000))
    ```

    ## Use instead
    Return the value (or use `num_returns` for several values):
    ```python
    @ray.remote
    def make():
        return np.zeros(10_000)
    ```
    """

    code = "RAY402"
    name = "return-ray-put"
    message = (
        "remote code returns a ray.put() ref: the data is stored twice and lost with this "
        "worker; return the value itself"
    )

    def check(self, mod: Module) -> Iterator[tuple[ast.AST, str]]:
        for remote in mod.remote_defs:
            if isinstance(remote.node, ast.ClassDef):
                fns = [
                    f
                    for f in remote.node.body
                    if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                    and f.name != "__init__"
                ]
            else:
                fns = [remote.node]
            for fn in fns:
                for node in mod.walk_scope(fn.body):
                    if isinstance(node, ast.Return) and node.value is not None:
                        for put in self._puts(node.value, fn, mod):
                            yield put, self.message

    @staticmethod
    def _puts(value: ast.expr, fn: ast.AST, mod: Module) -> list[ast.AST]:
        if mod.is_ray_call(value, "put"):
            return [value]
        if isinstance(value, (ast.List, ast.Tuple)):
            return [e for e in value.elts if mod.is_ray_call(e, "put")]
        if isinstance(value, ast.ListComp) and mod.is_ray_call(value.elt, "put"):
            return [value.elt]
        if isinstance(value, ast.Name):
            bound = mod.bindings(fn).get(value.id)  # type: ignore[arg-type]
            if bound and len(bound) == 1 and bound[0] is not None:
                if mod.is_ray_call(bound[0], "put"):
                    return [bound[0]]
        return []
