"""RAY402 return-ray-put: a task returning ``ray.put(...)``."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ray_patterns._findings import Edit, Fix
from ray_patterns.lint.core import Rule
from ray_patterns.lint.edits import node_text, replace, task_calls
from ray_patterns.lint.model import Module


class ReturnRayPut(Rule):
    """A task or actor method that returns `ray.put(...)` refs.

    ## What it does
    Flags `ray.put(...)` calls returned by remote code (tasks and actor methods):
    `return ray.put(x)`, a tuple or list of them or of names bound to them, a name
    bound to `ray.put(...)`, or a list filled by `.append(ray.put(...))`.

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
    needs = (("remote",), ("ray.put",))
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
                for node in mod.body_nodes(fn):
                    if isinstance(node, ast.Return) and node.value is not None:
                        for put in self._puts(node.value, fn, mod):
                            yield put, self.message

    @staticmethod
    def _puts(value: ast.expr, fn: ast.AST, mod: Module) -> list[ast.AST]:
        """The ``ray.put`` calls whose refs ``value`` returns: directly, in a tuple or list
        (of calls, or of names bound to them), or in a list filled by ``.append``."""
        if mod.is_ray_call(value, "put"):
            return [value]
        if isinstance(value, (ast.List, ast.Tuple)):
            return [put for e in value.elts for put in _put_of(e, mod)]
        if isinstance(value, ast.ListComp) and mod.is_ray_call(value.elt, "put"):
            return [value.elt]
        if isinstance(value, ast.Name):
            found = _put_of(value, mod)
            if found:
                return found
            values = mod.reaching(value)
            if values and len(values) == 1 and isinstance(values[0], (ast.List, ast.Tuple)):
                bound = values[0]
                if not bound.elts:
                    return _appended_puts(value, bound, mod)
                return [put for e in bound.elts for put in _put_of(e, mod)]
        return []

    def fix(self, mod: Module, node: ast.AST) -> Fix | None:
        # ray.put(v) -> v in the return. Callers then need one ray.get less, so the fix
        # also turns this file's ray.get(ray.get(task.remote(...))) into one ray.get. It is
        # safe only when those are all the task's uses and this is its only return value.
        assert isinstance(node, ast.Call)
        if len(node.args) != 1 or node.keywords:
            return None
        fn = mod.function_of(node)
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return None
        value = mod.parents.get(node)
        if isinstance(value, ast.Assign):  # ref = ray.put(v); return ref
            [target] = value.targets
            if not isinstance(target, ast.Name) or len(mod.name_uses(fn, target.id)) != 1:
                return None
        edits = [replace(node, node_text(mod, node.args[0]))]
        returns = [r for r in mod.body_nodes(fn) if isinstance(r, ast.Return) and r.value]
        callers = _double_gets(fn, mod) if len(returns) == 1 else None
        # the put is the whole return value: `return ray.put(v)` or `ref = ...; return ref`
        whole = returns[0].value if len(returns) == 1 else None
        direct = whole is node or (
            isinstance(value, ast.Assign)
            and isinstance(whole, ast.Name)
            and whole.id == value.targets[0].id  # type: ignore[attr-defined]
        )
        if callers and direct:
            return Fix("return the value itself (and ray.get it once)", (*edits, *callers))
        if not callers and any(
            n.id == fn.name and isinstance(n.ctx, ast.Load) for n in mod.of_type(ast.Name)
        ):
            return None  # callers in this file that the fix would break
        title = "return the value itself (its callers must ray.get once less)"
        return Fix(title, tuple(edits), "unsafe")


def _put_of(expr: ast.expr, mod: Module) -> list[ast.AST]:
    """``[ray.put(...)]`` for a put call or a name that only a put call reaches."""
    if mod.is_ray_call(expr, "put"):
        return [expr]
    if isinstance(expr, ast.Name):
        bound = mod.reaching(expr)
        if bound and len(bound) == 1 and bound[0] is not None and mod.is_ray_call(bound[0], "put"):
            return [bound[0]]
    return []


def _appended_puts(name: ast.Name, bound: ast.expr, mod: Module) -> list[ast.AST]:
    """``refs = []`` then ``refs.append(ray.put(x))``: those puts (all appends must be)."""
    puts: list[ast.AST] = []
    for m in mod.live_mutations(name, bound):
        if not (
            isinstance(m, ast.Call)
            and isinstance(m.func, ast.Attribute)
            and m.func.attr == "append"
            and len(m.args) == 1
        ):
            return []
        found = _put_of(m.args[0], mod)
        if not found:
            return []
        puts.extend(found)
    return puts


def _double_gets(fn: ast.FunctionDef | ast.AsyncFunctionDef, mod: Module) -> list[Edit] | None:
    """Edits ``ray.get(ray.get(fn.remote(...)))`` -> ``ray.get(fn.remote(...))`` for every
    use of the decorated task ``fn`` in the file; None if any use is something else."""
    calls = task_calls(mod, fn)
    if calls is None:
        return None
    edits: list[Edit] = []
    for call in calls:
        inner = mod.parents.get(call)
        outer = mod.parents.get(inner) if inner is not None else None
        if not (
            isinstance(inner, ast.Call)
            and isinstance(outer, ast.Call)
            and mod.is_ray_call(inner, "get")
            and mod.is_ray_call(outer, "get")
            and len(inner.args) == 1
            and len(outer.args) == 1
            and not outer.keywords
        ):
            return None
        edits.append(replace(outer, node_text(mod, inner)))
    return edits
