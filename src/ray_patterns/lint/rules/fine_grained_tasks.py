"""RAY102 fine-grained-tasks: a trivial task launched once per item of a large iterable."""

from __future__ import annotations

import ast
import math
from collections.abc import Iterator

from ray_patterns._units import MANY_ITEMS
from ray_patterns.lint.core import Rule
from ray_patterns.lint.flow import loop_count
from ray_patterns.lint.model import Module

# A sleep this short stands for microseconds of work (Ray's own example uses 10 us).
_TINY_SLEEP_S = 0.001
# Calls cheap enough that a body made of them is still trivial.
_CHEAP = frozenset(
    {"abs", "min", "max", "len", "int", "float", "str", "bool", "round", "divmod", "pow", "hash"}
)


class FineGrainedTasks(Rule):
    """A remote function with a trivial body launched once per item of a large iterable.

    ## What it does
    Flags `f.remote(x)` run at least `large-iterable` times (a loop or comprehension
    over a `range` or list whose size the file states: literals, module constants,
    `len()` of a module-level list, argparse defaults; nested loops multiply) when
    `f` is a task whose body is a single `return` of a small expression (at most
    `trivial-body-nodes` syntax nodes, no loops, only cheap builtin calls or calls
    of trivial helpers of the same file), after at most a tiny `time.sleep`.

    ## Why is this bad?
    Each task costs scheduling, serialization and a round trip (around a
    millisecond); a task that doubles a number does microseconds of work, so the
    overhead dominates and the Ray version is slower than a plain loop.

    ## Example
    ```python
    @ray.remote
    def double(x):
        return x * 2

    refs = [double.remote(x) for x in range(100_000)]
    ```

    ## Use instead
    Batch: one task handles a chunk of items:
    ```python
    @ray.remote
    def double_batch(xs):
        return [x * 2 for x in xs]

    refs = [double_batch.remote(range(i, i + 1000)) for i in range(0, 100_000, 1000)]
    ```
    """

    code = "RAY102"
    name = "fine-grained-tasks"
    message = (
        "the task {task!r} does trivial work and is launched once per item of {count:,} items; "
        "batch the items so that each task does more work"
    )
    defaults = {"large_iterable": MANY_ITEMS, "trivial_body_nodes": 12}

    def check(self, mod: Module) -> Iterator[tuple[ast.AST, str]]:
        for call in mod.calls:
            if not mod.is_submission(call):
                continue
            target = mod.submitted(call)
            if target is None or target.kind != "task" or isinstance(target.node, ast.ClassDef):
                continue
            loops = mod.loops_around(call)
            if not loops:
                continue
            count = _submissions(loops, mod)
            if count is None or count < self.settings["large_iterable"] or count >= 10**18:
                continue
            if not _trivial(target.node, self.settings["trivial_body_nodes"], mod):
                continue
            yield call, self.message.format(task=target.node.name, count=count)


def _submissions(loops: list[ast.AST], mod: Module) -> int | None:
    """How many times the innermost loop body runs: the product over nested loops when
    every count is known, else the innermost loop's own count."""
    counts = [loop_count(loop, mod) for loop in loops]
    if counts and counts[0] is None:
        return None
    if all(c is not None for c in counts):
        return math.prod(c for c in counts if c is not None)
    return counts[0]


def _trivial(
    fn: ast.FunctionDef | ast.AsyncFunctionDef, limit: int, mod: Module, depth: int = 0
) -> bool:
    """A body that is one small ``return`` (after an optional tiny ``time.sleep``), whose
    calls are cheap builtins or trivial functions of the same file."""
    body = list(fn.body)
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        body = body[1:]
    if len(body) == 2 and _tiny_sleep(body[0], mod):
        body = body[1:]
    if len(body) != 1 or not isinstance(body[0], ast.Return) or body[0].value is None:
        return False
    nodes = list(ast.walk(body[0].value))
    if len(nodes) > limit:
        return False
    for node in nodes:
        if isinstance(node, ast.Call):
            if not (isinstance(node.func, ast.Name) and node.func.id in _CHEAP):
                if not _trivial_helper(node, limit, mod, depth):
                    return False
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            return False
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            return False
    return True


def _trivial_helper(call: ast.Call, limit: int, mod: Module, depth: int) -> bool:
    """``helper(x)`` where ``helper`` is a plain function of this file with a trivial body."""
    if depth >= 2 or not isinstance(call.func, ast.Name):
        return False
    defs = mod.defs_by_name.get(call.func.id, [])
    if len(defs) != 1 or not isinstance(defs[0], (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    helper = defs[0]
    if helper.decorator_list:
        return False
    return _trivial(helper, limit, mod, depth + 1)


def _tiny_sleep(stmt: ast.stmt, mod: Module) -> bool:
    """``time.sleep(0.00001)``: a stand-in for work that takes microseconds."""
    if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)):
        return False
    call = stmt.value
    if mod.qualname(call.func) != "time.sleep" or len(call.args) != 1:
        return False
    arg = call.args[0]
    return (
        isinstance(arg, ast.Constant)
        and isinstance(arg.value, (int, float))
        and 0 <= arg.value <= _TINY_SLEEP_S
    )
