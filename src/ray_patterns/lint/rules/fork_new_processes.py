"""RAY405 fork-new-processes: forking inside a task or actor, or in a driver after ``ray.init``."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ray_patterns.lint.core import Rule
from ray_patterns.lint.model import Module, ScopeNode

_FORKS = frozenset({"os.fork", "os.forkpty"})
# default start method on Linux before Python 3.14: fork
_DEFAULT_CONTEXT = frozenset(
    {
        "multiprocessing.Process",
        "multiprocessing.Pool",
        "multiprocessing.pool.Pool",
    }
)
_EXECUTORS = frozenset(
    {"concurrent.futures.ProcessPoolExecutor", "concurrent.futures.process.ProcessPoolExecutor"}
)


_DEFAULT_START = " with the default (fork) start method"


def _end(node: ast.AST) -> tuple[int, int]:
    return (getattr(node, "end_lineno", 0) or 0, getattr(node, "end_col_offset", 0) or 0)


class ForkNewProcesses(Rule):
    """`os.fork`, fork-start `multiprocessing` or `ProcessPoolExecutor` in Ray code.

    ## What it does
    Flags, inside `@ray.remote` functions and actor classes: `os.fork()`,
    `multiprocessing.Process(...)` / `Pool(...)` with the default start method
    (fork on Linux up to Python 3.13), `get_context("fork")` /
    `set_start_method("fork")`, and `ProcessPoolExecutor(...)` without an
    `mp_context`. In a driver (Ray's page: "in driver, tasks or actors") the
    same calls after `ray.init()` in the same function (or at module level),
    unless `set_start_method("spawn")` (or `"forkserver"`) ran before them there
    or at module level; a fork before `ray.init()` has no Ray state to copy.

    ## Why is this bad?
    A Ray worker is a multi-threaded process holding connections to the raylet
    and the object store; after `ray.init()` a driver is one too. A forked child
    copies that state without its threads: it can deadlock, corrupt shared
    connections, or crash the worker.

    ## Example
    ```python
    @ray.remote
    def crunch(items):
        with multiprocessing.Pool(4) as pool:
            return pool.map(work, items)
    ```

    ## Use instead
    Let Ray parallelize (more tasks, `num_cpus`), or start children with spawn:
    ```python
    @ray.remote(num_cpus=4)
    def crunch(items):
        with multiprocessing.get_context("spawn").Pool(4) as pool:
            return pool.map(work, items)
    ```
    """

    code = "RAY405"
    name = "fork-new-processes"
    message = (
        "{what} inside a Ray task or actor forks a multi-threaded worker process, which can "
        "deadlock or crash it; let Ray parallelize, or use the 'spawn' start method"
    )

    driver_message = (
        "{what} after ray.init() forks the driver: the child shares its Ray connections "
        "without their threads, which can corrupt messages or hang; use the 'spawn' "
        "start method, or Ray tasks"
    )
    # every flagged call is spelled with (or imported by) the last part of its name
    needs = (
        ("remote", "ray.init"),
        (
            "fork",
            "forkpty",
            "Pool",
            "Process",
            "ProcessPoolExecutor",
            "get_context",
            "set_start_method",
        ),
        # and what they come from: os.fork is spelled "fork"; the others need an
        # import of multiprocessing or concurrent.futures
        ("fork", "forkpty", "multiprocessing", "concurrent"),
    )

    def check(self, mod: Module) -> Iterator[tuple[ast.AST, str]]:
        seen: set[int] = set()
        for remote in mod.remote_defs:
            for node in mod.subtree(remote.node):
                if not isinstance(node, ast.Call) or id(node) in seen:
                    continue
                seen.add(id(node))
                what = self._what(node, mod)
                if what is not None:
                    yield node, self.message.format(what=what)
        yield from self._driver(mod, seen)

    def _driver(self, mod: Module, seen: set[int]) -> Iterator[tuple[ast.AST, str]]:
        """Forks that run in a driver after its ``ray.init()``: later in the scope of
        the call (nested functions run only when called, and are not followed)."""
        inits = [c for c in mod.calls if mod.is_ray_call(c, "init")]
        if not inits:
            return
        # set_start_method("spawn"): at module level it holds for the whole file,
        # in a function for what comes after it there
        spawns: list[tuple[ScopeNode, tuple[int, int]]] = [
            (mod.scope_of(c), _end(c))
            for c in mod.calls
            if mod.qualname(c.func) == "multiprocessing.set_start_method"
            and c.args
            and isinstance(c.args[0], ast.Constant)
            and c.args[0].value in ("spawn", "forkserver")
        ]
        scopes: dict[int, tuple[ScopeNode, tuple[int, int]]] = {}
        for init in inits:
            scope = mod.scope_of(init)
            known = scopes.get(id(scope))
            if known is None or _end(init) < known[1]:
                scopes[id(scope)] = (scope, _end(init))
        for scope, after in scopes.values():
            if isinstance(scope, ast.Lambda):
                continue
            for node in mod.walk_scope(scope.body):
                if not isinstance(node, ast.Call) or id(node) in seen:
                    continue
                start = (node.lineno, node.col_offset)
                if start < after:
                    continue
                what = self._what(node, mod)
                if what is None:
                    continue
                seen.add(id(node))
                if what.endswith(_DEFAULT_START) or what.startswith("ProcessPoolExecutor"):
                    if any(s is mod.tree or (s is scope and at < start) for s, at in spawns):
                        continue
                yield node, self.driver_message.format(what=what)

    @staticmethod
    def _what(call: ast.Call, mod: Module) -> str | None:
        name = mod.qualname(call.func)
        if name is None:
            return None
        if name in _FORKS:
            return f"{name}()"
        if name in _DEFAULT_CONTEXT:
            return f"{name}(){_DEFAULT_START}"
        if name in ("multiprocessing.get_context", "multiprocessing.set_start_method"):
            if (
                call.args
                and isinstance(call.args[0], ast.Constant)
                and call.args[0].value == "fork"
            ):
                return f'{name}("fork")'
            return None
        if name in _EXECUTORS and not any(kw.arg == "mp_context" for kw in call.keywords):
            return "ProcessPoolExecutor() without mp_context"
        return None
