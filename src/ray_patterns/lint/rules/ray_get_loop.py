"""RAY105 ray-get-loop: ``ray.get`` on a ref submitted in the same loop iteration."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ray_patterns._findings import Edit, Fix
from ray_patterns.lint.core import Rule
from ray_patterns.lint.edits import (
    indent_of,
    node_text,
    owns_lines,
    ray_name,
    replace,
    starts_own_line,
)
from ray_patterns.lint.flow import is_timed, stored_in_loop
from ray_patterns.lint.model import COMPS, Module, walk


class RayGetLoop(Rule):
    """`ray.get` on a ref submitted in the same loop iteration.

    ## What it does
    Flags `ray.get(...)` inside a `for` loop or comprehension when the ref it waits
    for was submitted (`.remote(...)`) in that same iteration. Loops whose next
    submission depends on the previous result, loops that `break` or `return`, and
    `while` loops (polling, retries) are left alone.

    ## Why is this bad?
    `ray.get` blocks until the task finishes, so the next task is only submitted
    after the previous one is done: the loop runs the tasks one at a time and Ray
    gives no parallelism at all.

    ## Example
    ```python
    results = []
    for i in range(100):
        results.append(ray.get(work.remote(i)))
    ```

    ## Use instead
    Submit everything first, then wait once:
    ```python
    refs = [work.remote(i) for i in range(100)]
    results = ray.get(refs)
    ```
    """

    code = "RAY105"
    name = "ray-get-loop"
    needs = (("remote",), ("ray.get",))
    message = (
        "ray.get() waits for a task submitted in the same loop iteration, so the tasks run "
        "one at a time; submit all of them first, then call ray.get() once on the list of refs"
    )

    def check(self, mod: Module) -> Iterator[tuple[ast.AST, str]]:
        for call in mod.calls:
            if not call.args or not mod.is_ray_call(call, "get"):
                continue
            loops = mod.loops_around(call)
            if not loops or isinstance(loops[0], ast.While):
                continue
            loop = loops[0]
            subs = self._submissions(call.args[0], loop, call, mod)
            if not subs:
                continue
            if _same_actor(subs, loop, mod):
                continue
            if isinstance(loop, (ast.For, ast.AsyncFor)):
                if (
                    _exits_early(loop, mod)
                    or _loop_carried(subs, loop, call, mod)
                    or _guarded_by_result(call, loop, mod)
                    or is_timed(call, loop, mod)
                ):
                    continue
            elif isinstance(loop, COMPS) and _walrus_in(loop):
                continue
            yield call, self.message

    @staticmethod
    def _submissions(arg: ast.AST, loop: ast.AST, call: ast.Call, mod: Module) -> list[ast.Call]:
        exprs = arg.elts if isinstance(arg, (ast.List, ast.Tuple)) else [arg]
        subs: list[ast.Call] = []
        for expr in exprs:
            if mod.maybe_ref_submission(expr):
                assert isinstance(expr, ast.Call)
                subs.append(expr)
                continue
            if not isinstance(expr, ast.Name) or not isinstance(loop, (ast.For, ast.AsyncFor)):
                return []
            # a name bound from a submission earlier in this same iteration
            assigns, store_counts = _bindings_in(loop, mod)
            assigned = assigns.get(expr.id, [])
            if (
                len(assigned) != 1
                or store_counts.get(expr.id, 0) != 1
                or assigned[0].lineno >= call.lineno
                or not mod.maybe_ref_submission(assigned[0].value)
                or mod.loops_around(assigned[0])[:1] != [loop]
            ):
                return []
            value = assigned[0].value
            assert isinstance(value, ast.Call)
            subs.append(value)
        return subs

    def fix(self, mod: Module, node: ast.AST) -> Fix | None:
        # Submit every task in the loop and ray.get them all once after it. Unsafe: the
        # tasks now run at the same time, so their side effects happen in another order.
        # Only where nothing in the loop reads the value: [ray.get(f.remote(x)) for x in
        # xs], or a loop that ends with results.append(ray.get(...)) and reads results
        # nowhere else.
        assert isinstance(node, ast.Call)
        ray = ray_name(mod)
        loops = mod.loops_around(node)
        if ray is None or len(node.args) != 1 or node.keywords or not loops:
            return None
        loop, arg = loops[0], node_text(mod, node.args[0])
        title = "submit all the tasks first, then ray.get() them once"
        if isinstance(loop, ast.ListComp) and loop.elt is node:
            text = node_text(mod, loop)
            at = text.index(node_text(mod, node))
            inner = text[:at] + arg + text[at + len(node_text(mod, node)) :]
            return Fix(title, (replace(loop, f"{ray}.get({inner})"),), "unsafe")
        stmt = mod.statement_of(node)
        append = mod.parents.get(node)
        if not (
            isinstance(loop, ast.For)
            and len(loops) == 1
            and loop.body[-1] is stmt
            and not loop.orelse
            and isinstance(append, ast.Call)
            and isinstance(stmt, ast.Expr)
            and stmt.value is append
            and isinstance(append.func, ast.Attribute)
            and append.func.attr == "append"
            and isinstance(append.func.value, ast.Name)
            and starts_own_line(mod, loop)
            and owns_lines(mod, loop.lineno, loop)
        ):
            return None
        name = append.func.value.id
        scope = mod.scope_of(loop)
        bound = mod.bindings(scope).get(name, [])
        empty = len(bound) == 1 and isinstance(bound[0], ast.List) and not bound[0].elts
        if not empty or mod.mutations_of(name, scope) != [append]:
            return None
        if mod.name_uses(loop, name) != [append.func.value]:
            return None  # the loop reads the list: it would see refs, not values
        after = (loop.end_lineno or loop.lineno) + 1
        collect = f"{indent_of(mod, loop.lineno)}{name} = {ray}.get({name})\n"
        edits = (replace(node, arg), Edit(after, 0, after, 0, collect))
        return Fix(title, edits, "unsafe")


def _bindings_in(
    loop: ast.For | ast.AsyncFor, mod: Module
) -> tuple[dict[str, list[ast.Assign]], dict[str, int]]:
    """Per loop, once: ``name = value`` statements in the body, and how many times each
    name is bound (loop target included)."""
    return mod.cache(("loop_bindings", id(loop)), lambda: _loop_bindings(loop, mod))


def _loop_bindings(
    loop: ast.For | ast.AsyncFor, mod: Module
) -> tuple[dict[str, list[ast.Assign]], dict[str, int]]:
    assigns: dict[str, list[ast.Assign]] = {}
    counts: dict[str, int] = {}
    for node in mod.walk_scope([loop.target, *loop.body]):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    assigns.setdefault(target.id, []).append(node)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            counts[node.id] = counts.get(node.id, 0) + 1
    return assigns, counts


def _exits_early(loop: ast.For | ast.AsyncFor, mod: Module) -> bool:
    """A ``break`` or ``return`` in the body: a sequential search, not a batch."""
    return mod.cache(
        ("exits_early", id(loop)),
        lambda: any(
            isinstance(node, ast.Return)
            or (isinstance(node, ast.Break) and mod.loops_around(node)[:1] == [loop])
            for node in mod.walk_scope(loop.body)
        ),
    )


def _same_actor(subs: list[ast.Call], loop: ast.AST, mod: Module) -> bool:
    """``h.method.remote()`` on one actor every iteration: the actor runs the calls one
    at a time anyway, so waiting costs a round trip, not parallelism."""
    stored = stored_in_loop(loop, mod)
    for sub in subs:
        receiver = sub.func.value  # type: ignore[attr-defined]
        if not isinstance(receiver, ast.Attribute) or receiver.attr == "options":
            return False
        base = receiver.value
        while isinstance(base, (ast.Attribute, ast.Subscript)):
            base = base.value
        if not isinstance(base, ast.Name) or base.id in stored:
            return False
    return True


def _guarded_by_result(call: ast.Call, loop: ast.AST, mod: Module) -> bool:
    """``if node is None: node = ray.get(...)``: runs once, guarded by its own result."""
    stmt = mod.statement_of(call)
    targets = {n.id for n in walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    if not targets:
        return False
    parent = mod.parents.get(stmt)
    while parent is not None and parent is not loop:
        if isinstance(parent, ast.If) and any(
            isinstance(n, ast.Name) and n.id in targets for n in walk(parent.test)
        ):
            return True
        parent = mod.parents.get(parent)
    return False


def _walrus_in(comp: ast.AST) -> bool:
    return any(isinstance(n, ast.NamedExpr) for n in walk(comp))


def _loop_carried(
    subs: list[ast.Call], loop: ast.For | ast.AsyncFor, call: ast.Call, mod: Module
) -> bool:
    """Does a submission read something this loop changes at or after the ``ray.get``?

    Then each step needs the previous result (``x = ray.get(step.remote(x))``) and
    the loop is sequential by nature.
    """
    if isinstance(mod.parents.get(call), ast.Expr):
        return False  # the value is dropped: nothing can carry it to the next step
    inside = {id(n) for sub in subs for n in walk(sub)}
    read = {
        n.id
        for sub in subs
        for n in walk(sub)
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
    }
    line = mod.statement_of(call).lineno
    # a method called in the submission itself runs before the ray.get, and one called
    # on the loop's own variable changes this item, not the next: neither can carry
    # the result to the next submission
    targets = _target_names(loop)
    return any(
        lineno >= line
        and name in read
        and id(node) not in inside
        and not (is_method_call and name in targets)
        for lineno, name, node, is_method_call in _writes(loop, mod)
    )


def _target_names(loop: ast.For | ast.AsyncFor) -> set[str]:
    return {n.id for n in walk(loop.target) if isinstance(n, ast.Name)}


Write = tuple[int, str, ast.AST, bool]


def _writes(loop: ast.For | ast.AsyncFor, mod: Module) -> list[Write]:
    """(line, name, node, is a method call) for each place the loop body may change what
    ``name`` refers to: rebinding it, storing into it, or calling one of its methods.
    Cached per loop."""
    return mod.cache(("loop_writes", id(loop)), lambda: _loop_writes(loop, mod))


def _loop_writes(loop: ast.For | ast.AsyncFor, mod: Module) -> list[Write]:
    writes: list[Write] = []
    for node in mod.walk_scope(loop.body):
        lineno = getattr(node, "lineno", 0)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            writes.append((lineno, node.id, node, False))
        elif isinstance(node, (ast.Subscript, ast.Attribute)) and not isinstance(
            node.ctx, ast.Load
        ):
            base = node.value
            while isinstance(base, (ast.Subscript, ast.Attribute)):
                base = base.value
            if isinstance(base, ast.Name):
                writes.append((lineno, base.id, node, False))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.attr not in ("remote", "options")
        ):
            writes.append((lineno, node.func.value.id, node, True))
    return writes
