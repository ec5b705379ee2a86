"""RAY101 global-variables: remote code sharing state through module globals."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ray_patterns.lint.core import Rule
from ray_patterns.lint.model import MUTATORS, Module, RemoteDef, walk

_CONTAINER_CALLS = frozenset(
    {
        "list",
        "dict",
        "set",
        "collections.defaultdict",
        "collections.OrderedDict",
        "collections.Counter",
        "collections.deque",
    }
)


class GlobalVariables(Rule):
    """Remote code that shares state through global or class variables.

    ## What it does
    Flags, inside `@ray.remote` functions and actor classes:
    - assignments to a global (`global x; x = ...`),
    - mutation of a module-level list, dict or set (`CACHE[k] = v`, `ITEMS.append(x)`),
    - reads of a global that the driver reassigns or mutates after the definition,
    - mutation of a class variable in an actor (`Counter.total += 1`, or
      `self.shared.append(x)` on a class-level list).
    Module constants that nothing changes are fine and not flagged.

    ## Why is this bad?
    Tasks and actors run in other processes, each with its own copy of the module.
    A change made by the driver after the definition is not seen by the workers, a
    change made in a task is lost when it ends, and class variables are not shared
    between actor instances.

    ## Example
    ```python
    counts = {}

    @ray.remote
    def tally(word):
        counts[word] = counts.get(word, 0) + 1
    ```

    ## Use instead
    Keep shared mutable state in an actor and pass its handle:
    ```python
    @ray.remote
    class Counts:
        def __init__(self):
            self.counts = {}

        def tally(self, word):
            self.counts[word] = self.counts.get(word, 0) + 1
    ```
    """

    code = "RAY101"
    name = "global-variables"
    message = "{what}; workers have their own copy, so keep shared state in an actor instead"

    def check(self, mod: Module) -> Iterator[tuple[ast.AST, str]]:
        if not mod.remote_defs:
            return
        module_bindings = mod.bindings(mod.tree)
        for remote in mod.remote_defs:
            mutated = _mutations_in(remote.node, mod)
            # a global can be flagged only if mutated here or changed by the driver:
            # without such a candidate the symbol table is not needed
            candidates = [
                name
                for name in mod.loaded_names(remote.node)
                if (values := module_bindings.get(name)) and all(v is not None for v in values)
            ]
            needed = any(
                mutated.get(name) or self._changed_by_driver(name, remote, mod)
                for name in candidates
            )
            outside = mod.outside_names(remote.node) if needed else {}
            yield from self._global_writes(remote, mod)
            for name, where in sorted(outside.items()):
                if where != "global":
                    continue
                values = module_bindings.get(name)
                if not values or any(v is None for v in values):
                    continue
                mutations = [m for m in mutated.get(name, []) if _reads_global(m, mod)]
                if mutations and all(_is_container(v, mod) for v in values if v is not None):
                    what = f"remote code mutates the module-level {name!r}"
                    yield mutations[0], self.message.format(what=what)
                    continue
                if self._changed_by_driver(name, remote, mod):
                    uses = mod.name_uses(remote.node, name)
                    if uses:
                        what = f"remote code reads the global {name!r} that the driver changes"
                        yield uses[0], self.message.format(what=what)
            if remote.kind == "actor" and isinstance(remote.node, ast.ClassDef):
                yield from self._class_vars(remote.node, mod)

    def _global_writes(self, remote: RemoteDef, mod: Module) -> Iterator[tuple[ast.AST, str]]:
        first, last = remote.node.lineno, remote.node.end_lineno or remote.node.lineno
        if not any(first <= g.lineno <= last for g in mod.of_type(ast.Global)):
            return  # no ``global`` statement inside: nothing assigns a global (most files)
        for fn in walk(remote.node):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            declared = {n for g in fn.body if isinstance(g, ast.Global) for n in g.names}
            declared |= {
                n for g in mod.walk_scope(fn.body) if isinstance(g, ast.Global) for n in g.names
            }
            for node in mod.walk_scope(fn.body):
                if (
                    isinstance(node, ast.Name)
                    and node.id in declared
                    and isinstance(node.ctx, (ast.Store, ast.Del))
                ):
                    what = f"remote code assigns the global {node.id!r}"
                    yield node, self.message.format(what=what)

    @staticmethod
    def _changed_by_driver(name: str, remote: RemoteDef, mod: Module) -> bool:
        end = remote.node.end_lineno or remote.node.lineno
        stores, rebinders = _module_facts(mod)
        lines = stores.get(name, [])
        # rebound after the definition; a single first binding placed below it is not a change
        if len(lines) >= 2 and max(lines) > end:
            return True
        for mutation in mod.mutations_of(name, mod.tree):
            if getattr(mutation, "lineno", 0) > end:
                return True
        # a non-remote function that rebinds it through ``global``
        return name in rebinders

    def _class_vars(self, cls: ast.ClassDef, mod: Module) -> Iterator[tuple[ast.AST, str]]:
        class_vars: dict[str, ast.expr] = {}
        for stmt in cls.body:
            if isinstance(stmt, ast.Assign):
                for target in stmt.targets:
                    if isinstance(target, ast.Name):
                        class_vars[target.id] = stmt.value
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                if stmt.value is not None:
                    class_vars[stmt.target.id] = stmt.value
        if not class_vars:
            return
        self_assigned = {
            n.attr
            for n in walk(cls)
            if isinstance(n, ast.Attribute)
            and isinstance(n.ctx, ast.Store)
            and isinstance(n.value, ast.Name)
            and n.value.id == "self"
        }
        for method in cls.body:
            if not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in walk(method):
                attr, owner = _class_attr_target(node, cls.name)
                if attr is None or attr not in class_vars:
                    continue
                if owner == "self":
                    if attr in self_assigned or not _is_container(class_vars[attr], mod):
                        continue
                what = f"an actor method mutates the class variable {attr!r}"
                yield node, self.message.format(what=what)


def _module_facts(mod: Module) -> tuple[dict[str, list[int]], set[str]]:
    """Module-level store lines per name, and names rebound via ``global`` outside remote
    code; computed once per file (a file may have many remote defs and globals)."""
    return mod.cache("global_variables_facts", lambda: _compute_module_facts(mod))


def _compute_module_facts(mod: Module) -> tuple[dict[str, list[int]], set[str]]:
    stores: dict[str, list[int]] = {}
    for node in mod.walk_scope(mod.tree.body):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            stores.setdefault(node.id, []).append(node.lineno)
    remote_nodes = {id(r.node) for r in mod.remote_defs}
    rebinders: set[str] = set()
    for node in mod.of_type(ast.Global):
        parent: ast.AST | None = mod.function_of(node)
        inside_remote = False
        while parent is not None:
            if id(parent) in remote_nodes:
                inside_remote = True
                break
            parent = mod.parents.get(parent)
        if not inside_remote:
            rebinders.update(node.names)
    return stores, rebinders


def _class_attr_target(node: ast.AST, cls_name: str) -> tuple[str | None, str]:
    """For a mutation of ``Cls.attr`` / ``type(self).attr`` / ``self.attr[...]``: attr."""

    def owner(expr: ast.AST) -> str | None:
        if isinstance(expr, ast.Name) and expr.id == cls_name:
            return "class"
        if (
            isinstance(expr, ast.Call)
            and isinstance(expr.func, ast.Name)
            and expr.func.id == "type"
            and len(expr.args) == 1
            and isinstance(expr.args[0], ast.Name)
            and expr.args[0].id == "self"
        ):
            return "class"
        if isinstance(expr, ast.Attribute) and expr.attr == "__class__":
            return "class"
        if isinstance(expr, ast.Name) and expr.id == "self":
            return "self"
        return None

    if isinstance(node, ast.Attribute) and isinstance(node.ctx, (ast.Store, ast.Del)):
        if owner(node.value) == "class":
            return node.attr, "class"
    target: ast.AST | None = None
    if isinstance(node, ast.Subscript) and isinstance(node.ctx, (ast.Store, ast.Del)):
        target = node.value
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in MUTATORS
    ):
        target = node.func.value
    if isinstance(target, ast.Attribute):
        who = owner(target.value)
        if who is not None:
            return target.attr, who
    return None, ""


def _mutations_in(node: ast.AST, mod: Module) -> dict[str, list[ast.AST]]:
    """Name -> its mutations under ``node`` (``x[k] = v``, ``x.attr = v``, ``x.append()``)."""
    found: dict[str, list[ast.AST]] = {}
    for sub in mod.subtree(node):
        base: ast.AST | None = None
        if isinstance(sub, (ast.Subscript, ast.Attribute)) and isinstance(
            sub.ctx, (ast.Store, ast.Del)
        ):
            base = sub.value
        elif (
            isinstance(sub, ast.Call)
            and isinstance(sub.func, ast.Attribute)
            and sub.func.attr in MUTATORS
        ):
            base = sub.func.value
        if isinstance(base, ast.Name):
            found.setdefault(base.id, []).append(sub)
    for items in found.values():
        items.sort(key=lambda n: (getattr(n, "lineno", 0), getattr(n, "col_offset", 0)))
    return found


def _reads_global(mutation: ast.AST, mod: Module) -> bool:
    """Is the mutated name unbound in every function around the mutation?"""
    if isinstance(mutation, ast.Call):
        base = mutation.func.value  # type: ignore[attr-defined]
    else:
        base = mutation.value  # type: ignore[attr-defined]
    assert isinstance(base, ast.Name)
    for scope in mod.enclosing_scopes(mutation):
        if isinstance(scope, ast.Module):
            return True
        if base.id in mod.bindings(scope):
            return False
    return True


def _is_container(value: ast.expr, mod: Module) -> bool:
    if isinstance(value, (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)):
        return True
    if isinstance(value, ast.Call):
        name = mod.qualname(value.func) or (
            value.func.id if isinstance(value.func, ast.Name) else None
        )
        return name in _CONTAINER_CALLS
    return False
