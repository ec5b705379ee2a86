"""RAY303 sync-actor-polling-loop: a sync actor method that loops forever."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ray_patterns.lint.core import Rule
from ray_patterns.lint.model import Module


class SyncActorPollingLoop(Rule):
    """A synchronous actor method with a `while True` loop that never ends.

    ## What it does
    Flags `while True:` (or `while 1:`) in a plain `def` method of an actor class
    when nothing in the loop leaves it (`break`, `return`, `raise`). Async actors,
    threaded actors (`max_concurrency` above 1 or `concurrency_groups`), methods
    started on a thread of their own (`threading.Thread(target=self.run)`) and
    generator methods (a stream) are left alone.

    ## Why is this bad?
    A sync actor runs one method call at a time. A call that never returns holds
    the actor's only thread forever: every other method call (a status query, a
    stop request) waits behind it and never runs.

    ## Example
    ```python
    @ray.remote
    class Executor:
        def run(self, store):
            while True:
                task = ray.get(store.next.remote())
                self.execute(task)

        def executed(self):  # never answers while run() is running
            return self.count
    ```

    ## Use instead
    Make the actor async and await inside the loop, so other calls interleave
    (`ray_patterns.PollingActor` does this for you):
    ```python
    @ray.remote
    class Executor:
        async def run(self, store):
            while True:
                task = await store.next.remote()
                self.execute(task)
    ```

    ## References
    - Ray: https://docs.ray.io/en/latest/ray-core/patterns/concurrent-operations-async-actor.html
    """

    code = "RAY303"
    name = "sync-actor-polling-loop"
    message = (
        "this loop in the sync actor method {method!r} never ends, so it holds the actor's "
        "only thread and no other method call runs; make the method async and await inside"
    )

    def check(self, mod: Module) -> Iterator[tuple[ast.AST, str]]:
        for remote in mod.remote_defs:
            cls = remote.node
            if not isinstance(cls, ast.ClassDef) or _concurrent(cls, mod):
                continue
            if any(isinstance(f, ast.AsyncFunctionDef) for f in cls.body):
                continue  # an async actor already: out of this check's scope
            threaded = _started_elsewhere(cls, mod)
            for method in cls.body:
                if not isinstance(method, ast.FunctionDef) or method.name in threaded:
                    continue
                inner = mod.body_nodes(method)
                if any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in inner):
                    continue
                for loop in inner:
                    if isinstance(loop, ast.While) and _endless(loop, mod):
                        yield loop, self.message.format(method=method.name)
                        break


def _endless(loop: ast.While, mod: Module) -> bool:
    test = loop.test
    if not (isinstance(test, ast.Constant) and test.value in (True, 1)) or loop.orelse:
        return False
    for node in mod.walk_scope(loop.body):
        if isinstance(node, (ast.Return, ast.Raise)):
            return False
        if isinstance(node, ast.Break) and mod.loops_around(node)[:1] == [loop]:
            return False
        if isinstance(node, ast.Call):
            name = mod.qualname(node.func) or ""
            if name in ("sys.exit", "os._exit", "ray.actor.exit_actor"):
                return False
    return True


def _concurrent(cls: ast.ClassDef, mod: Module) -> bool:
    """``@ray.remote(max_concurrency=8)`` or concurrency groups: calls run in parallel."""
    for dec in cls.decorator_list:
        if isinstance(dec, ast.Call) and mod.is_remote_decorator(dec):
            for kw in dec.keywords:
                if kw.arg == "concurrency_groups":
                    return True
                if kw.arg == "max_concurrency":
                    value = kw.value
                    return not (isinstance(value, ast.Constant) and value.value == 1)
    for call in mod.calls:
        # Actor.options(max_concurrency=...): the class may run threaded
        func = call.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "options"
            and isinstance(func.value, ast.Name)
            and func.value.id == cls.name
            and any(kw.arg in ("max_concurrency", "concurrency_groups") for kw in call.keywords)
        ):
            return True
    return False


def _started_elsewhere(cls: ast.ClassDef, mod: Module) -> set[str]:
    """Methods referred to as ``self.name`` without being called (a thread's target)."""
    names: set[str] = set()
    called: set[int] = set()
    for node in mod.subtree(cls):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            called.add(id(node.func))
    for node in mod.subtree(cls):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "self"
            and isinstance(node.ctx, ast.Load)
            and id(node) not in called
        ):
            names.add(node.attr)
    return names
