"""RAY408 actor-busy-wait: polling an actor with ray.get and sleep until a flag flips."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ray_patterns.lint.core import Rule
from ray_patterns.lint.model import Module, walk

_SLEEPS = frozenset({"time.sleep"})


class ActorBusyWait(Rule):
    """A loop that asks an actor for a flag with `ray.get` and sleeps until it flips.

    ## What it does
    Flags `ray.get(actor.method.remote())` in a `while` loop that also calls
    `time.sleep(...)`, when the fetched value decides whether the loop goes on:
    it is the loop's condition (`while not ray.get(a.ready.remote()):`) or the
    condition of an `if` that leaves the loop (`break`, `return`).

    ## Why is this bad?
    Each round trip is a remote call that the actor must serve, and the waiter
    reacts up to one sleep late: polling fast floods the actor, polling slowly
    adds latency, and many waiters multiply both.

    ## Example
    ```python
    while not ray.get(signal.is_set.remote()):
        time.sleep(0.1)
    ```

    ## Use instead
    Block on the actor itself: an async method that awaits an `asyncio.Event`,
    set by another call, answers every waiter the moment it is set:
    ```python
    @ray.remote(num_cpus=0)
    class Signal:
        def __init__(self):
            self.event = asyncio.Event()

        def send(self):
            self.event.set()

        async def wait(self):
            await self.event.wait()

    ray.get(signal.wait.remote())
    ```

    ## References
    - Ray: https://docs.ray.io/en/latest/ray-core/patterns/actor-sync.html
    """

    code = "RAY408"
    name = "actor-busy-wait"
    needs = (("remote",), ("ray.get",), ("sleep",))
    message = (
        "this loop polls an actor with ray.get() and sleeps until the answer changes; wait on "
        "the actor instead (an async method awaiting an asyncio.Event that another call sets)"
    )

    def check(self, mod: Module) -> Iterator[tuple[ast.AST, str]]:
        for loop in mod.of_type(ast.While):
            inner = list(mod.walk_scope([loop.test, *loop.body]))
            if not any(isinstance(n, ast.Call) and mod.qualname(n.func) in _SLEEPS for n in inner):
                continue
            for node in inner:
                if (
                    isinstance(node, ast.Call)
                    and mod.is_ray_call(node, "get")
                    and node.args
                    and _actor_call(node.args[0], mod)
                    and mod.loops_around(node)[:1] == [loop]
                    and _decides_exit(node, loop, mod)
                ):
                    yield node, self.message
                    break


def _actor_call(expr: ast.AST, mod: Module) -> bool:
    """``h.method.remote(...)``: a call on an actor handle (not a task)."""
    if not mod.is_submission(expr):
        return False
    assert isinstance(expr, ast.Call)
    receiver = expr.func.value  # type: ignore[attr-defined]
    return (
        isinstance(receiver, ast.Attribute)
        and receiver.attr != "options"
        and mod.submitted(expr) is None
    )


def _decides_exit(get: ast.Call, loop: ast.While, mod: Module) -> bool:
    """Is the fetched value the loop's condition, or the test of an ``if`` that leaves?"""
    node: ast.AST = get
    parent = mod.parents.get(node)
    while parent is not None and parent is not loop:
        if isinstance(parent, ast.If) and node is parent.test:
            return any(isinstance(n, (ast.Break, ast.Return)) for b in parent.body for n in walk(b))
        node, parent = parent, mod.parents.get(parent)
    if parent is loop and node is loop.test:
        return True
    # ``done = ray.get(...)`` then ``if done: break`` / ``while not done``
    stmt = mod.statement_of(get)
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        target = stmt.targets[0]
        if isinstance(target, ast.Name):
            for n in walk(loop):
                if isinstance(n, ast.If) and _reads(n.test, target.id):
                    if any(isinstance(x, (ast.Break, ast.Return)) for x in walk(n)):
                        return True
            return _reads(loop.test, target.id)
    return False


def _reads(expr: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in walk(expr))
