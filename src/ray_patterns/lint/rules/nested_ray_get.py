"""RAY403 nested-ray-get: a task calling ``ray.get`` on refs it received in a list."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ray_patterns.lint.core import Rule
from ray_patterns.lint.flow import is_timed
from ray_patterns.lint.model import Module


class NestedRayGet(Rule):
    """A task or actor method calling `ray.get` on refs it received inside a list or dict.

    ## What it does
    Flags `ray.get(p)`, `ray.get(p[i])` and `ray.get(r)` for `r` iterating over `p`,
    inside a remote function or an actor method, where `p` is one of its
    parameters (not `*args`).
    Ray resolves only top-level ref arguments, so a ref reaching `ray.get` through
    a parameter must have come nested in a container.

    ## Why is this bad?
    The task is scheduled before its inputs exist and then blocks inside a worker
    waiting for them; Ray cannot place it near its data, and chains of such tasks
    can tie up workers. Top-level ref arguments are resolved before the task
    starts, for free.

    ## Example
    ```python
    @ray.remote
    def total(refs):
        return sum(ray.get(refs))

    total.remote([part.remote(i) for i in range(10)])
    ```

    ## Use instead
    Pass the refs as top-level arguments:
    ```python
    @ray.remote
    def total(*parts):
        return sum(parts)

    total.remote(*[part.remote(i) for i in range(10)])
    ```
    """

    code = "RAY403"
    name = "nested-ray-get"
    needs = (("remote",), ("ray.get",))
    message = (
        "ray.get() on refs received nested in the argument {param!r}: the task holds a worker "
        "while it waits; pass the refs as top-level arguments (f.remote(*refs))"
    )

    def check(self, mod: Module) -> Iterator[tuple[ast.AST, str]]:
        for remote in mod.remote_defs:
            node = remote.node
            if isinstance(node, ast.ClassDef):
                # actor methods: Ray resolves their top-level ref arguments too
                methods = [
                    f for f in node.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                ]
                for method in methods:
                    yield from self._check_function(method, mod, method=True)
            else:
                yield from self._check_function(node, mod, method=False)

    def _check_function(
        self, fn: ast.FunctionDef | ast.AsyncFunctionDef, mod: Module, method: bool
    ) -> Iterator[tuple[ast.AST, str]]:
        args = [*fn.args.posonlyargs, *fn.args.args]
        if method and not any(
            isinstance(d, ast.Name) and d.id == "staticmethod" for d in fn.decorator_list
        ):
            args = args[1:]  # self
        params = {a.arg for a in [*args, *fn.args.kwonlyargs]}
        bound = mod.bindings(fn)
        params = {p for p in params if len(bound.get(p, [])) == 1}
        if not params:
            return
        iter_vars: dict[str, str] = {}
        for node in mod.body_nodes(fn):
            if (
                isinstance(node, (ast.For, ast.comprehension))
                and isinstance(node.iter, ast.Name)
                and node.iter.id in params
                and isinstance(node.target, ast.Name)
            ):
                iter_vars[node.target.id] = node.iter.id
        for node in mod.body_nodes(fn):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            if not mod.is_ray_call(node, "get"):
                continue
            loops = mod.loops_around(node)
            if loops and is_timed(node, loops[0], mod):
                continue  # a benchmark timing each fetch of the refs it was handed
            arg = node.args[0]
            if isinstance(arg, ast.Subscript):
                arg = arg.value
            if isinstance(arg, ast.Name):
                param = arg.id if arg.id in params else iter_vars.get(arg.id)
                if param is not None:
                    yield node, self.message.format(param=param)
