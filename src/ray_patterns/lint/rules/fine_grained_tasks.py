"""RAY102 fine-grained-tasks: a trivial task launched once per item of a large iterable."""

from __future__ import annotations

import ast
import math
from collections.abc import Iterator

from ray_patterns._findings import Edit, Fix
from ray_patterns._units import MANY_ITEMS
from ray_patterns.lint.core import Rule
from ray_patterns.lint.edits import (
    delete_lines,
    import_edit,
    line_text,
    node_text,
    replace,
    task_calls,
)
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
        for call in mod.submissions:
            target = mod.submitted(call)
            if target is None or target.kind != "task" or isinstance(target.node, ast.ClassDef):
                continue
            loops = mod.loops_around(call)
            if not loops:
                continue
            count = _submissions(loops, mod)
            if count is None or count < self.settings["large_iterable"] or count >= 10**18:
                continue
            if not _trivial(target.node, self.settings["trivial_body_nodes"], target.home(mod)):
                continue
            yield call, self.message.format(task=target.node.name, count=count)

    def fix(self, mod: Module, node: ast.AST) -> Fix | None:
        # ray.get([task.remote(x) for x in items]) -> list(ray_patterns.batched_map(task,
        # items)), and task loses its bare @ray.remote (batched_map makes the Ray tasks).
        # Only when every use of the task in the file has that shape. Unsafe: many items
        # now share one task (one worker, one retry) and the batch size is tuned at run time.
        assert isinstance(node, ast.Call)
        target = mod.submitted(node)
        if target is not None and target.module is not None:
            return None  # defined in another file: its decorator is not ours to edit
        calls = task_calls(mod, target.node) if target is not None else None
        if calls is None or target is None:
            return None
        fn = target.node
        decorators = [d for d in fn.decorator_list if mod.is_remote_decorator(d)]
        if len(decorators) != 1 or not isinstance(decorators[0], (ast.Name, ast.Attribute)):
            return None  # ray.remote(num_cpus=...) options would be lost
        dec = decorators[0]
        if line_text(mod, dec.lineno).strip() != f"@{node_text(mod, dec)}":
            return None  # the decorator shares its line with something
        edits = [delete_lines(dec.lineno, dec.lineno)]
        for call in calls:
            rewrite = _batched(call, fn.name, mod)
            if rewrite is None:
                return None
            edits += rewrite
        if mod.imports.get("ray_patterns") != "ray_patterns":
            added = import_edit(mod, "ray_patterns")
            if added is None:
                return None
            edits.append(added)
        title = f"batch the items with ray_patterns.batched_map({fn.name}, ...)"
        return Fix(title, tuple(edits), "unsafe")


def _batched(call: ast.Call, task: str, mod: Module) -> list[Edit] | None:
    """``ray.get([task.remote(x) for x in items])`` -> ``list(ray_patterns.batched_map(...))``;
    also ``refs = [...]`` whose one use is ``ray.get(refs)``."""
    comp = mod.parents.get(call)
    if not (
        isinstance(comp, ast.ListComp)
        and comp.elt is call
        and len(comp.generators) == 1
        and not comp.generators[0].ifs
        and not comp.generators[0].is_async
        and isinstance(comp.generators[0].target, ast.Name)
        and isinstance(call.func, ast.Attribute)
        and isinstance(call.func.value, ast.Name)  # not .options(...)
        and len(call.args) == 1
        and not call.keywords
        and isinstance(call.args[0], ast.Name)
        and call.args[0].id == comp.generators[0].target.id
    ):
        return None
    batched = f"list(ray_patterns.batched_map({task}, {node_text(mod, comp.generators[0].iter)}))"
    parent = mod.parents.get(comp)
    if _sole_get(parent, comp, mod):
        return [replace(parent, batched)]  # type: ignore[arg-type]
    if isinstance(parent, ast.Assign) and [type(t) for t in parent.targets] == [ast.Name]:
        name = parent.targets[0].id  # type: ignore[attr-defined]
        scope = mod.scope_of(parent)
        uses = mod.name_uses(scope, name)
        if mod.bindings(scope).get(name) == [comp] and len(uses) == 1:
            get = mod.parents.get(uses[0])
            if _sole_get(get, uses[0], mod):
                return [replace(comp, batched), replace(get, name)]  # type: ignore[arg-type]
    return None


def _sole_get(node: ast.AST | None, arg: ast.AST, mod: Module) -> bool:
    """Is ``node`` ``ray.get(arg)``, with nothing else passed?"""
    return (
        isinstance(node, ast.Call)
        and mod.is_ray_call(node, "get")
        and len(node.args) == 1
        and node.args[0] is arg
        and not node.keywords
    )


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
    """A short straight-line body (after an optional tiny ``time.sleep``): ``pass``,
    assignments to local names and one final ``return`` (or none), whose calls are cheap
    builtins or trivial functions of the same file, ``limit`` nodes in all."""
    body = list(fn.body)
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        body = body[1:]
    if len(body) >= 2 and _tiny_sleep(body[0], mod):
        body = body[1:]
    if not body:
        return False
    parts: list[ast.AST] = []
    for i, stmt in enumerate(body):
        if isinstance(stmt, ast.Pass):
            continue
        if isinstance(stmt, ast.Return) and i == len(body) - 1:
            if stmt.value is not None:
                parts.append(stmt.value)
        elif isinstance(stmt, ast.Assign) and all(isinstance(t, ast.Name) for t in stmt.targets):
            parts.append(stmt.value)
        elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
            parts.append(stmt.value)
        else:
            return False  # a loop, a branch, a with, a call for its effect: real work
    # counted as ast.walk counts (ctx nodes included), each statement as one more node
    nodes = [n for part in parts for n in ast.walk(part)]
    if len(nodes) + len(body) - 1 > limit:
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
