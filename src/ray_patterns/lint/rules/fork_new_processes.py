"""RAY405 fork-new-processes: forking inside a task or actor."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ray_patterns.lint.core import Rule
from ray_patterns.lint.model import Module

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


class ForkNewProcesses(Rule):
    """`os.fork`, fork-start `multiprocessing` or `ProcessPoolExecutor` in a task or actor.

    ## What it does
    Flags, inside `@ray.remote` functions and actor classes: `os.fork()`,
    `multiprocessing.Process(...)` / `Pool(...)` with the default start method
    (fork on Linux up to Python 3.13), `get_context("fork")` /
    `set_start_method("fork")`, and `ProcessPoolExecutor(...)` without an
    `mp_context`.

    ## Why is this bad?
    A Ray worker is a multi-threaded process holding connections to the raylet
    and the object store. A forked child copies that state without its threads:
    it can deadlock, corrupt shared connections, or crash the worker.

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

    @staticmethod
    def _what(call: ast.Call, mod: Module) -> str | None:
        name = mod.qualname(call.func)
        if name is None:
            return None
        if name in _FORKS:
            return f"{name}()"
        if name in _DEFAULT_CONTEXT:
            return f"{name}() with the default (fork) start method"
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
