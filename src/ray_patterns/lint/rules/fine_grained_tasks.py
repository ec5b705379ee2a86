"""RAY102 fine-grained-tasks: a trivial task launched once per item of a large iterable."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ray_patterns._units import MANY_ITEMS
from ray_patterns.lint.core import Rule
from ray_patterns.lint.flow import loop_count
from ray_patterns.lint.model import Module

# Calls cheap enough that a body made of them is still trivial.
_CHEAP = frozenset(
    {"abs", "min", "max", "len", "int", "float", "str", "bool", "round", "divmod", "pow", "hash"}
)


class FineGrainedTasks(Rule):
    """A remote function with a trivial body launched once per item of a large iterable.

    ## What it does
    Flags `f.remote(x)` inside a loop or comprehension over at least
    `large-iterable` items (a literal `range`, list, or endless iterator) when `f`
    is a task whose body is a single `return` of a small expression (at most
    `trivial-body-nodes` syntax nodes, no loops, only cheap builtin calls).

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
            count = loop_count(loops[0], mod)
            if count is None or count < self.settings["large_iterable"] or count >= 10**18:
                continue
            if not _trivial(target.node, self.settings["trivial_body_nodes"]):
                continue
            yield call, self.message.format(task=target.node.name, count=count)


def _trivial(fn: ast.FunctionDef | ast.AsyncFunctionDef, limit: int) -> bool:
    body = list(fn.body)
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        body = body[1:]
    if len(body) != 1 or not isinstance(body[0], ast.Return) or body[0].value is None:
        return False
    nodes = list(ast.walk(body[0].value))
    if len(nodes) > limit:
        return False
    for node in nodes:
        if isinstance(node, ast.Call):
            if not (isinstance(node.func, ast.Name) and node.func.id in _CHEAP):
                return False
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            return False
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            return False
    return True
