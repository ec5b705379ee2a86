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
    page = "concurrent-operations-async-actor"
    message = (
        "ray.{fn}() blocks the event loop of this async function; use await "
        "(asyncio.gather / asyncio.wait for several refs) instead"
    )

    def check(self, mod: Module) -> Iterator[tuple[ast.AST, str]]:
        for call in mod.calls:
            if not mod.is_ray_call(call, "get", "wait"):
                continue
            if not isinstance(mod.function_of(call), ast.AsyncFunctionDef):
                continue
            if any(
                kw.arg == "timeout" and isinstance(kw.value, ast.Constant) and kw.value.value == 0
                for kw in call.keywords
            ):
                continue
            fn = (mod.qualname(call.func) or "ray.get").rsplit(".", 1)[-1]
            yield call, self.message.format(fn=fn)
