"""RAY301 blocking-get-in-async: ``ray.get``/``ray.wait`` inside ``async def``."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ray_patterns.lint.core import Rule
from ray_patterns.lint.model import Module


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


def _ready(arg: ast.AST, fn: ast.AsyncFunctionDef, mod: Module) -> bool:
    """Is the ref certainly finished: polled with ``ray.wait(timeout=0)``, returned ready
    by ``ray.wait``, or yielded by ``async for`` (which awaits each ref)?"""
    if not isinstance(arg, ast.Name):
        return False
    for node in mod.walk_scope(fn.body):
        if isinstance(node, ast.AsyncFor):
            if any(isinstance(n, ast.Name) and n.id == arg.id for n in ast.walk(node.target)):
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
                and any(isinstance(n, ast.Name) and n.id == arg.id for n in ast.walk(wait.args[0]))
            ):
                return True
    return False
