"""Where ObjectRefs come from: single refs and lists of refs, followed through names.

Example::

    refs = [f.remote(i) for i in range(10)]   # ref_list(<Name refs>) -> RefList
    for r in refs: ...                        # loop.iter is a known list of refs
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from ray_patterns.lint.model import COMPS, Module, dotted
from ray_patterns.lint.sizes import iteration_count


@dataclass
class RefList:
    """A list whose items are all ObjectRefs from the ``submissions`` calls.

    ``loop`` is the comprehension or ``for`` loop that built it, if it was built by one.
    """

    submissions: list[ast.Call] = field(default_factory=list)
    loop: ast.AST | None = None
    kind: str = "list"  # or "dict": the refs are its values


def _sub(node: ast.AST, mod: Module, lenient: bool) -> bool:
    return mod.maybe_ref_submission(node) if lenient else mod.is_ref_submission(node)


def is_ref(expr: ast.AST, mod: Module, depth: int = 0, lenient: bool = False) -> bool:
    """Is ``expr`` certainly one ObjectRef (``f.remote()``, ``ray.put(x)``, a name of one)?

    ``lenient``: any ``.remote()`` call but a known actor creation counts, for places
    where the code only makes sense with a ref (the argument of ``ray.get``).
    """
    if depth > 5:
        return False
    if _sub(expr, mod, lenient) or mod.is_ray_call(expr, "put"):
        return True
    if isinstance(expr, ast.Name):
        value = mod.resolve_value(expr)
        return value is not None and is_ref(value, mod, depth + 1, lenient)
    return False


def _direct_list(expr: ast.AST, mod: Module, lenient: bool) -> RefList | None:
    if isinstance(expr, ast.ListComp) and _sub(expr.elt, mod, lenient):
        assert isinstance(expr.elt, ast.Call)
        return RefList([expr.elt], expr)
    if isinstance(expr, (ast.List, ast.Tuple)) and expr.elts:
        if all(_sub(e, mod, lenient) for e in expr.elts):
            return RefList([e for e in expr.elts if isinstance(e, ast.Call)], None)
    if isinstance(expr, ast.DictComp) and _sub(expr.value, mod, lenient):
        assert isinstance(expr.value, ast.Call)
        return RefList([expr.value], expr, "dict")
    if isinstance(expr, ast.Dict) and expr.values:
        if all(_sub(v, mod, lenient) for v in expr.values):
            return RefList([v for v in expr.values if isinstance(v, ast.Call)], None, "dict")
    # list(d.values()) of a dict of refs
    if (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Name)
        and expr.func.id == "list"
        and len(expr.args) == 1
    ):
        values = dict_values_of(expr.args[0], mod, lenient)
        if values is not None:
            return RefList(values.submissions, values.loop)
    return None


def dict_values_of(expr: ast.AST, mod: Module, lenient: bool = False) -> RefList | None:
    """For ``d.values()`` where ``d`` is a dict of refs: that dict."""
    if (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and expr.func.attr == "values"
        and not expr.args
    ):
        found = ref_list(expr.func.value, mod, lenient)
        if found is not None and found.kind == "dict":
            return found
    return None


def _attribute_value(expr: ast.Attribute, mod: Module) -> ast.expr | None:
    """The one value stored to ``self.refs`` (by dotted name) in the class or module."""
    key = dotted(expr)
    if key is None:
        return None
    owner: ast.AST = mod.tree
    parent = mod.parents.get(expr)
    while parent is not None:
        if isinstance(parent, ast.ClassDef):
            owner = parent
            break
        parent = mod.parents.get(parent)
    index, mutated_keys = mod.attribute_index(owner)
    stores = index.get(key, [])
    mutated = key in mutated_keys
    if len(stores) != 1 or mutated:
        return None
    assign = mod.parents.get(stores[0])
    if isinstance(assign, ast.Assign) and assign.targets == [stores[0]]:
        return assign.value
    return None


def ref_list(expr: ast.AST, mod: Module, lenient: bool = False) -> RefList | None:
    """The refs ``expr`` holds if it is certainly a list of ObjectRefs, else None.

    Follows one name bound once in its scope, to a comprehension or list literal of
    ``.remote(...)`` calls, or to ``[]`` filled only by ``.append(x.remote(...))``.
    """
    direct = _direct_list(expr, mod, lenient)
    if direct is not None:
        return direct
    if isinstance(expr, ast.Attribute):
        value = _attribute_value(expr, mod)
        return None if value is None else _direct_list(value, mod, lenient)
    if not isinstance(expr, ast.Name):
        return None
    values = mod.reaching(expr)
    if not values or any(v is None for v in values):
        return None
    found = [bound_ref_list(expr, v, mod, lenient) for v in values]  # type: ignore[arg-type]
    if any(f is None for f in found):
        return None
    first = found[0]
    assert first is not None
    if len(found) == 1 or all(f is not None and f.kind == first.kind for f in found):
        # every reaching binding (one per branch) is a list of refs
        subs = [c for f in found if f is not None for c in f.submissions]
        loop = first.loop if len(found) == 1 else None
        return RefList(subs, loop, first.kind)
    return None


def bound_ref_list(name: ast.Name, value: ast.expr, mod: Module, lenient: bool) -> RefList | None:
    """The refs the binding ``name = value`` holds where ``name`` is read (removing
    items keeps a list of refs one)."""
    mutations = [
        m
        for m in mod.live_mutations(name, value)
        if not (
            isinstance(m, ast.Call)
            and isinstance(m.func, ast.Attribute)
            and m.func.attr in ("pop", "remove", "clear")
        )
    ]
    direct = _direct_list(value, mod, lenient)
    if direct is not None:
        return direct if not mutations else None
    if isinstance(value, ast.Dict) and not value.keys and mutations:
        return _filled_dict(mutations, mod, lenient)
    if not (isinstance(value, ast.List) and not value.elts) or not mutations:
        return None
    appended: list[ast.Call] = []
    loop: ast.AST | None = None
    for m in mutations:
        if not (
            isinstance(m, ast.Call)
            and isinstance(m.func, ast.Attribute)
            and m.func.attr == "append"
            and len(m.args) == 1
            and _sub(m.args[0], mod, lenient)
        ):
            return None
        appended.append(m.args[0])  # type: ignore[arg-type]
        loops = mod.loops_around(m)
        if loops:
            loop = loops[-1]
    return RefList(appended, loop)


def _filled_dict(mutations: list[ast.AST], mod: Module, lenient: bool) -> RefList | None:
    """``d = {}`` then only ``d[k] = f.remote(...)``: a dict of refs."""
    subs: list[ast.Call] = []
    loop: ast.AST | None = None
    for m in mutations:
        assign = mod.parents.get(m)
        if not (
            isinstance(m, ast.Subscript)
            and isinstance(m.ctx, ast.Store)
            and isinstance(assign, ast.Assign)
            and assign.targets == [m]
            and _sub(assign.value, mod, lenient)
        ):
            return None
        subs.append(assign.value)  # type: ignore[arg-type]
        loops = mod.loops_around(m)
        if loops:
            loop = loops[-1]
    return RefList(subs, loop, "dict")


def loop_count(loop: ast.AST, mod: Module) -> int | None:
    """How many times ``loop`` (a ``for`` or a one-generator comprehension) iterates."""
    if isinstance(loop, (ast.For, ast.AsyncFor)):
        return iteration_count(loop.iter, mod)
    if isinstance(loop, COMPS) and len(loop.generators) == 1 and not loop.generators[0].ifs:
        return iteration_count(loop.generators[0].iter, mod)
    return None


def is_inside(node: ast.AST, ancestor: ast.AST, mod: Module) -> bool:
    parent = mod.parents.get(node)
    while parent is not None:
        if parent is ancestor:
            return True
        parent = mod.parents.get(parent)
    return False


def stored_in_loop(loop: ast.AST, mod: Module) -> set[str]:
    """Names (re)bound by each iteration of ``loop``: its targets and assignments."""
    return mod.cache(("stored_in_loop", id(loop)), lambda: _stored_in_loop(loop, mod))


def _stored_in_loop(loop: ast.AST, mod: Module) -> set[str]:
    names: set[str] = set()
    parts: list[ast.AST]
    if isinstance(loop, (ast.For, ast.AsyncFor)):
        parts = [loop.target, *loop.body]
    elif isinstance(loop, ast.While):
        parts = list(loop.body)
    elif isinstance(loop, COMPS):
        parts = [g.target for g in loop.generators]
    else:
        parts = []
    for node in mod.walk_scope(parts):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


_TIMERS = frozenset(
    {
        "time.time",
        "time.perf_counter",
        "time.monotonic",
        "time.process_time",
        "time.time_ns",
        "time.perf_counter_ns",
        "time.monotonic_ns",
        "timeit.default_timer",
        "datetime.datetime.now",
    }
)


def is_timed(call: ast.AST, loop: ast.AST, mod: Module) -> bool:
    """Does each iteration of ``loop`` read a clock before and after ``call``?

    ``start = time.time(); ray.get(...); print(time.time() - start)`` measures one call
    at a time on purpose (a benchmark), so waiting in the loop is deliberate.
    """
    if not isinstance(loop, (ast.For, ast.AsyncFor, ast.While)):
        return False
    lines = mod.cache(("timer_lines", id(loop)), lambda: _timer_lines(loop, mod))
    stmt = mod.statement_of(call)
    first, last = stmt.lineno, stmt.end_lineno or stmt.lineno
    return any(n < first for n in lines) and any(n > last for n in lines)


def _timer_lines(loop: ast.For | ast.AsyncFor | ast.While, mod: Module) -> list[int]:
    return [
        node.lineno
        for node in mod.walk_scope(loop.body)
        if isinstance(node, ast.Call) and mod.qualname(node.func) in _TIMERS
    ]
