"""RAY301 blocking-get-in-async: ``ray.get``/``ray.wait`` inside ``async def``."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ray_patterns._findings import Fix
from ray_patterns.lint.core import Rule
from ray_patterns.lint.edits import import_edit, node_text, replace
from ray_patterns.lint.flow import is_ref, ref_list
from ray_patterns.lint.model import COMPS, Module, walk


class BlockingGetInAsync(Rule):
    """`ray.get` or `ray.wait` called inside an `async def`.

    ## What it does
    Flags `ray.get(...)` and `ray.wait(...)` calls whose nearest enclosing function
    is an `async def` (a sync `def` or `lambda` nested inside it is not flagged,
    nor is `ray.wait(..., timeout=0)`, which never blocks).

    ## Why is this bad?
    Both block the thread, and an async actor (or any asyncio program) runs all
    its coroutines on one event loop thread: while one method waits, no other
    method of the actor can run, which defeats the point of making it async.

    ## Example
    ```python
    @ray.remote
    class Poller:
        async def poll(self, source):
            while True:
                item = ray.get(source.next.remote())
    ```

    ## Use instead
    Await the ref; `asyncio.gather` / `asyncio.wait` for several:
    ```python
    @ray.remote
    class Poller:
        async def poll(self, source):
            while True:
                item = await source.next.remote()
    ```
    """

    code = "RAY301"
    name = "blocking-get-in-async"
    needs = (("async",), ("ray.get", "ray.wait"))
    message = (
        "ray.{fn}() blocks the event loop of this async function; use await "
        "(asyncio.gather / asyncio.wait for several refs) instead"
    )

    def check(self, mod: Module) -> Iterator[tuple[ast.AST, str]]:
        for call in mod.calls:
            if not mod.is_ray_call(call, "get", "wait"):
                continue
            fn = mod.function_of(call)
            if not isinstance(fn, ast.AsyncFunctionDef):
                continue
            if mod.is_ray_call(call, "get") and call.args and _ready(call.args[0], fn, mod):
                continue
            if any(
                kw.arg == "timeout" and isinstance(kw.value, ast.Constant) and kw.value.value == 0
                for kw in call.keywords
            ):
                continue
            what = (mod.qualname(call.func) or "ray.get").rsplit(".", 1)[-1]
            yield call, self.message.format(fn=what)

    def fix(self, mod: Module, node: ast.AST) -> Fix | None:
        # ray.get(ref) -> await ref; ray.get(refs) -> await asyncio.gather(*refs). Same
        # values and errors, without blocking the event loop. Only when the argument is
        # certainly one ref or a list of refs, and not inside a comprehension (an await
        # there would make a generator expression asynchronous).
        assert isinstance(node, ast.Call)
        if not mod.is_ray_call(node, "get") or len(node.args) != 1 or node.keywords:
            return None
        fn = mod.function_of(node)
        parent = mod.parents.get(node)
        walk: ast.AST | None = parent
        while walk is not None and walk is not fn:
            if isinstance(walk, COMPS):
                return None
            walk = mod.parents.get(walk)
        arg = node.args[0]
        edits = []
        if is_ref(arg, mod, lenient=True):
            text = f"await {node_text(mod, arg)}"
        else:
            found = ref_list(arg, mod, lenient=True)
            if found is None or found.kind != "list":
                return None
            text = f"await asyncio.gather(*{node_text(mod, arg)})"
            if mod.imports.get("asyncio") != "asyncio":
                added = import_edit(mod, "asyncio")
                if added is None:
                    return None
                edits.append(added)
        bare = isinstance(parent, (ast.Assign, ast.AnnAssign, ast.Expr, ast.Return)) or (
            isinstance(parent, ast.Call) and node in parent.args
        )
        edits.append(replace(node, text if bare else f"({text})"))
        return Fix("await the ref instead of blocking in ray.get()", tuple(edits))


def _ready(arg: ast.AST, fn: ast.AsyncFunctionDef, mod: Module) -> bool:
    """Is the ref certainly finished: polled with ``ray.wait(timeout=0)``, returned ready
    by ``ray.wait``, or yielded by ``async for`` (which awaits each ref)?"""
    if not isinstance(arg, ast.Name):
        return False
    for node in mod.walk_scope(fn.body):
        if isinstance(node, ast.AsyncFor):
            if any(isinstance(n, ast.Name) and n.id == arg.id for n in walk(node.target)):
                return True
        if isinstance(node, ast.Assign) and mod.is_ray_call(node.value, "wait"):
            target = node.targets[0]
            first = target.elts[0] if isinstance(target, ast.Tuple) and target.elts else None
            if isinstance(first, ast.Name) and first.id == arg.id:
                return True
            wait = node.value
            assert isinstance(wait, ast.Call)
            polled = any(
                kw.arg == "timeout" and isinstance(kw.value, ast.Constant) and kw.value.value == 0
                for kw in wait.keywords
            )
            if (
                polled
                and wait.args
                and any(isinstance(n, ast.Name) and n.id == arg.id for n in walk(wait.args[0]))
            ):
                return True
    return False
