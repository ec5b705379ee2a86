"""What the rules know about one parsed file: imports, remote definitions, loops, scopes.

Names are resolved the way Python binds them, but only when the answer is certain: a
name bound both by ``from ray import get`` and by an assignment somewhere resolves to
nothing, and rules stay silent on what they cannot resolve. A local name is resolved
flow-sensitively (``reaching``): the binding that reaches the use, the nearest preceding
one in straight-line code, or every binding that may reach it across branches and loops.

Example::

    mod = Module(ast.parse("import ray\\nray.get(x)"), "import ray\\nray.get(x)", "a.py")
    [mod.qualname(c.func) for c in mod.calls]   # ['ray.get']
"""

from __future__ import annotations

import ast
import re
import symtable
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

if TYPE_CHECKING:
    from ray_patterns.lint.project import Project

T = TypeVar("T", bound=ast.AST)
V = TypeVar("V")
FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
ScopeNode = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef | ast.Module
COMPS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)
SCOPE_TYPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.Module)
_FUNCTION_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.Module)
MUTATORS = frozenset(
    {
        "append",
        "extend",
        "insert",
        "pop",
        "popitem",
        "remove",
        "clear",
        "update",
        "setdefault",
        "add",
        "discard",
        "sort",
        "reverse",
        "appendleft",
        "extendleft",
    }
)


@dataclass(frozen=True)
class RemoteDef:
    """A function or class made remote; ``node`` is its definition, when known.

    ``module`` is the other linted file that defines it (imported from there), None
    for this file: judge ``node`` with ``home(mod)``'s imports and helpers.
    """

    kind: str  # "task" or "actor"
    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
    module: Module | None = None

    def home(self, mod: Module) -> Module:
        """The module ``node`` belongs to (``mod`` itself unless it was imported)."""
        return self.module if self.module is not None else mod


class Site(NamedTuple):
    """One binding of a name in a scope (a tuple: there are many, made in one pass).

    ``anchor`` is the statement that binds it (the ``for`` of a loop target, the ``with``
    of an ``as`` name; None for a parameter), ``value`` the expression assigned (None when
    the name is bound otherwise: a loop target, an import, ``+=``), ``pos`` where.
    """

    anchor: ast.AST | None
    value: ast.expr | None
    pos: tuple[int, int]


def dotted(expr: ast.AST) -> str | None:
    """``a.b.c`` for a chain of attributes on a name, else None."""
    parts: list[str] = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if isinstance(expr, ast.Name):
        parts.append(expr.id)
        return ".".join(reversed(parts))
    return None


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")

# Fields that never hold a node (names, flags, a constant's value): skipped by the walk.
# ``Name`` and ``Constant`` are half of all nodes and have no child at all.
_SCALAR_FIELDS = frozenset(
    {"ctx", "id", "attr", "arg", "kind", "type_comment", "level", "module", "is_async"}
)
_NAMED = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.ExceptHandler,
    ast.alias,
    ast.MatchAs,
    ast.MatchStar,
)
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_fields(kind: type) -> tuple[str, ...]:
    fields = tuple(
        name
        for name in kind._fields  # type: ignore[attr-defined]
        if name not in _SCALAR_FIELDS
        and not (kind is ast.Constant and name == "value")
        and not (name == "name" and issubclass(kind, _NAMED))
        and not (name == "names" and kind in (ast.Global, ast.Nonlocal))
        and not (name == "conversion" and kind is ast.FormattedValue)
    )
    _CHILD_FIELDS[kind] = fields
    return fields


# node types without a field that can hold a node (Name, Constant, operators, ...)
_LEAVES = frozenset(
    kind
    for kind in vars(ast).values()
    if isinstance(kind, type) and issubclass(kind, ast.AST) and not _child_fields(kind)
)


def _index(
    tree: ast.AST, parents: dict[ast.AST, ast.AST], by_type: defaultdict[type, list[ast.AST]]
) -> None:
    """Fill ``parents`` and ``by_type`` (each type's nodes breadth-first) in one pass.

    A hand-inlined ``ast.walk``: this runs on every node of every file, and skipping
    ``ast.iter_child_nodes`` and the fields that hold no node halves its cost. A node
    is filed when it is found (the same breadth-first order: the queue is first in,
    first out), and one without children (a third of all: ``Name``, ``Constant``) never
    goes through the queue.
    """
    queue: list[ast.AST] = [tree]
    append = queue.append
    fields_of = _CHILD_FIELDS.get
    AST = ast.AST
    leaves = _LEAVES
    by_type[type(tree)].append(tree)
    for node in queue:  # grows while it is read
        fields = fields_of(type(node))
        if fields is None:
            fields = _child_fields(type(node))
        for name in fields:
            value = getattr(node, name, None)
            if type(value) is list:
                for item in value:
                    if isinstance(item, AST):
                        parents[item] = node
                        kind = type(item)
                        by_type[kind].append(item)
                        if kind not in leaves:
                            append(item)
            elif isinstance(value, AST):
                parents[value] = node
                kind = type(value)
                by_type[kind].append(value)
                if kind not in leaves:
                    append(value)


def children(node: ast.AST) -> list[ast.AST]:
    """``ast.iter_child_nodes(node)`` as a list, without the fields that hold no node."""
    kind = type(node)
    fields = _CHILD_FIELDS.get(kind)
    if fields is None:
        fields = _child_fields(kind)
    out: list[ast.AST] = []
    for name in fields:
        value = getattr(node, name, None)
        if type(value) is list:
            out.extend(item for item in value if isinstance(item, ast.AST))
        elif isinstance(value, ast.AST):
            out.append(value)
    return out


def walk(root: ast.AST) -> Iterator[ast.AST]:
    """``ast.walk`` (the same breadth-first order), without visiting fields that hold
    no node (ctx among them): rules walk remote definitions and loops of every file."""
    nodes = [root]
    i = 0
    while i < len(nodes):
        node = nodes[i]
        i += 1
        yield node
        nodes.extend(children(node))


class Module:
    """One file's syntax tree plus the lookups every rule needs (computed lazily)."""

    def __init__(
        self, tree: ast.Module, source: str, path: str, project: Project | None = None
    ) -> None:
        self.tree = tree
        self.source = source
        self.path = path
        #: the other files of the run, to follow imported remote definitions into
        self.project = project
        self.parents: dict[ast.AST, ast.AST] = {}
        # a defaultdict for the index; read with .get (a missing type adds no entry)
        self.by_type: defaultdict[type, list[ast.AST]] = defaultdict(list)
        _index(tree, self.parents, self.by_type)
        self.calls: list[ast.Call] = self.of_type(ast.Call)
        self._cache: dict[Hashable, Any] = {}

    def cache(self, key: Hashable, fn: Callable[[], V]) -> V:
        """``fn()`` computed once per module for ``key``: the one per-file memo of rules.

        Example: ``mod.cache(("exits", id(loop)), lambda: _exits(loop, mod))``.
        """
        try:
            return self._cache[key]  # type: ignore[no-any-return]
        except KeyError:
            value = self._cache[key] = fn()
            return value

    def of_type(self, *kinds: type[T]) -> list[T]:
        """All nodes of the given exact types, in breadth-first order per type."""
        if len(kinds) == 1:
            return list(self.by_type.get(kinds[0], []))  # type: ignore[arg-type]
        out: list[T] = []
        for kind in kinds:
            out.extend(self.by_type.get(kind, []))  # type: ignore[arg-type]
        return out

    # -- imports ---------------------------------------------------------
    @cached_property
    def imports(self) -> dict[str, str]:
        """Local name -> imported dotted name, for names bound only by imports of one thing."""
        targets: dict[str, set[str]] = defaultdict(set)
        other: set[str] = set()
        for imp in self.of_type(ast.Import):
            for alias in imp.names:
                if alias.asname:
                    targets[alias.asname].add(alias.name)
                else:
                    top = alias.name.split(".")[0]
                    targets[top].add(top)
        for frm in self.of_type(ast.ImportFrom):
            if frm.level or not frm.module:
                other.update(alias.asname or alias.name for alias in frm.names)
                continue
            for alias in frm.names:
                if alias.name != "*":
                    targets[alias.asname or alias.name].add(f"{frm.module}.{alias.name}")
        if not targets:
            return {}
        other |= self._bound_otherwise
        return {
            name: next(iter(found))
            for name, found in targets.items()
            if len(found) == 1 and name not in other
        }

    @cached_property
    def stores(self) -> list[ast.Name]:
        """The names that are not read (stored or deleted), in breadth-first order: a
        few of all ``Name`` nodes, which several lookups go through."""
        load = ast.Load
        names: list[ast.Name] = self.by_type.get(ast.Name, [])  # type: ignore[assignment]
        return [n for n in names if not isinstance(n.ctx, load)]

    @cached_property
    def _bound_otherwise(self) -> set[str]:
        """Names bound by anything but an import: stores, parameters, defs, handlers."""
        other = {n.id for n in self.stores}
        other.update(a.arg for a in self.of_type(ast.arg))
        defs: list[ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef] = self.of_type(
            ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef
        )
        other.update(d.name for d in defs)
        for named in self.of_type(ast.ExceptHandler, ast.MatchAs, ast.MatchStar):
            bound = getattr(named, "name", None)
            if bound:
                other.add(bound)
        return other

    @cached_property
    def import_sources(self) -> dict[str, tuple[str, int, str | None]]:
        """Local name -> (module, dots, name in it; None for the module itself), for
        names bound by one import and nothing else: ``from .helpers import f`` gives
        ``f -> ("helpers", 1, "f")``, ``import helpers as h`` ``h -> ("helpers", 0, None)``.
        """
        found: dict[str, list[tuple[str, int, str | None]]] = defaultdict(list)
        for imp in self.of_type(ast.Import):
            for alias in imp.names:
                if alias.asname:
                    found[alias.asname].append((alias.name, 0, None))
                else:
                    top = alias.name.split(".")[0]
                    found[top].append((top, 0, None))
        for frm in self.of_type(ast.ImportFrom):
            for alias in frm.names:
                if alias.name != "*":
                    source = (frm.module or "", frm.level, alias.name)
                    found[alias.asname or alias.name].append(source)
        if not found:
            return {}
        other = self._bound_otherwise
        return {n: v[0] for n, v in found.items() if len(v) == 1 and n not in other}

    def imported_remote(self, expr: ast.AST) -> RemoteDef | None:
        """``f`` (``from helpers import f``) or ``h.f`` (``import helpers as h``) when
        ``helpers`` is a file of this run that makes ``f`` remote."""
        if self.project is None or not isinstance(expr, (ast.Name, ast.Attribute)):
            return None
        path = dotted(expr)
        if path is None:
            return None
        first, *rest = path.split(".")
        source = self.import_sources.get(first)
        if source is None:
            return None
        module, level, name = source
        parts = [module] if name is None else [module, name]
        parts = [p for p in [*parts, *rest] if p]
        if len(parts) < 2 and not (level and parts):
            return None
        *mod_parts, attr = parts
        project = self.project
        key = ("imported_remote", ".".join(mod_parts), level, attr)
        return self.cache(
            key, lambda: project.remote_def(self.path, ".".join(mod_parts), level, attr)
        )

    @cached_property
    def uses_ray(self) -> bool:
        return any(q == "ray" or q.startswith("ray.") for q in self.imports.values())

    def qualname(self, expr: ast.AST) -> str | None:
        """The dotted name an expression refers to through imports, e.g. ``ray.get``."""
        parts: list[str] = []
        while isinstance(expr, ast.Attribute):
            parts.append(expr.attr)
            expr = expr.value
        if not isinstance(expr, ast.Name):
            return None
        base = self.imports.get(expr.id)
        if base is None:
            return None
        return ".".join([base, *reversed(parts)])

    def is_ray_call(self, node: ast.AST, *names: str) -> bool:
        """Is ``node`` a call of ``ray.<name>`` for one of ``names``?"""
        if not isinstance(node, ast.Call):
            return False
        func = node.func
        # cheap rejections first: this runs on every call of every file
        if isinstance(func, ast.Attribute):
            if func.attr not in names:
                return False
        elif not (isinstance(func, ast.Name) and func.id in self.imports):
            return False
        q = self.qualname(func)
        return q is not None and q.startswith("ray.") and q[4:] in names

    # -- remote definitions ----------------------------------------------
    def is_remote_decorator(self, dec: ast.expr) -> bool:
        if isinstance(dec, ast.Call):
            dec = dec.func
        return self.qualname(dec) == "ray.remote"

    def remote_wrap_target(self, call: ast.Call) -> ast.expr | None:
        """For ``ray.remote(f)`` or ``ray.remote(num_cpus=1)(f)``: the ``f`` expression."""
        if len(call.args) != 1 or call.keywords:
            return None
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr != "remote":
            return None  # neither ray.remote(f) nor ray.remote(...)(f)
        if self.qualname(call.func) == "ray.remote":
            return call.args[0]
        inner = call.func
        if (
            isinstance(inner, ast.Call)
            and self.qualname(inner.func) == "ray.remote"
            and not inner.args
        ):
            return call.args[0]
        return None

    @cached_property
    def remote_wraps(self) -> list[tuple[ast.Call, ast.expr]]:
        """Every ``ray.remote(f)`` / ``ray.remote(...)(f)`` call with its ``f``, in the
        order of ``calls``: found once for the lookups and rules that need them."""
        found: list[tuple[ast.Call, ast.expr]] = []
        for call in self.calls:
            target = self.remote_wrap_target(call)
            if target is not None:
                found.append((call, target))
        return found

    @cached_property
    def defs_by_name(
        self,
    ) -> dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef]]:
        found: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef]] = defaultdict(
            list
        )
        defs: list[ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef] = self.of_type(
            ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef
        )
        defs.sort(key=lambda d: (d.lineno, d.col_offset))
        for node in defs:
            found[node.name].append(node)
        return found

    @cached_property
    def remote_defs(self) -> list[RemoteDef]:
        """Every definition made remote by decorator or by ``ray.remote(...)`` wrapping."""
        result: list[RemoteDef] = []
        seen: set[int] = set()
        defs: list[ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef] = self.of_type(
            ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef
        )
        defs.sort(key=lambda d: (d.lineno, d.col_offset))
        for node in defs:
            if node.decorator_list:
                if any(self.is_remote_decorator(d) for d in node.decorator_list):
                    kind = "actor" if isinstance(node, ast.ClassDef) else "task"
                    result.append(RemoteDef(kind, node))
                    seen.add(id(node))
        for _, target in self.remote_wraps:
            if isinstance(target, ast.Name):
                defs = self.defs_by_name.get(target.id, [])
                if len(defs) == 1 and id(defs[0]) not in seen:
                    node = defs[0]
                    kind = "actor" if isinstance(node, ast.ClassDef) else "task"
                    result.append(RemoteDef(kind, node))
                    seen.add(id(node))
        return result

    @cached_property
    def remote_by_name(self) -> dict[str, RemoteDef]:
        """Names that certainly refer to one remote definition (decorated or wrapped)."""
        names: dict[str, list[RemoteDef]] = defaultdict(list)
        by_node = {id(r.node): r for r in self.remote_defs}
        for r in self.remote_defs:
            if any(self.is_remote_decorator(d) for d in r.node.decorator_list):
                names[r.node.name].append(r)
        wraps = {id(call): target for call, target in self.remote_wraps}
        for node in self.of_type(ast.Assign):
            if (
                len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and isinstance(node.value, ast.Call)
            ):
                target = wraps.get(id(node.value))
                if isinstance(target, ast.Name):
                    defs = self.defs_by_name.get(target.id, [])
                    if len(defs) == 1 and id(defs[0]) in by_node:
                        names[node.targets[0].id].append(by_node[id(defs[0])])
        stored = self.stored_names
        out: dict[str, RemoteDef] = {}
        for name, rs in names.items():
            defs = self.defs_by_name.get(name, [])
            # one definition, and the name is not rebound to something else
            if len(rs) == 1 and stored.get(name, 0) <= (0 if defs else 1) and len(defs) <= 1:
                out[name] = rs[0]
        return out

    @cached_property
    def stored_names(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for node in self.stores:
            counts[node.id] += 1
        return counts

    def remote_of(self, expr: ast.AST) -> RemoteDef | None:
        """The remote definition ``expr`` names (``f``, ``f.options(...)``), if certain."""
        if (
            isinstance(expr, ast.Call)
            and isinstance(expr.func, ast.Attribute)
            and expr.func.attr == "options"
        ):
            expr = expr.func.value
        if isinstance(expr, ast.Name):
            found = self.remote_by_name.get(expr.id)
            if found is not None or self.project is None:
                return found
        return self.imported_remote(expr)

    @cached_property
    def submissions(self) -> list[ast.Call]:
        """The calls that are ``is_submission``, in the order of ``calls``."""
        return [c for c in self.calls if self.is_submission(c)]

    def is_submission(self, node: ast.AST) -> bool:
        """A ``.remote(...)`` call: a task, an actor method, or an actor creation."""
        return (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "remote"
            and self.qualname(node.func) != "ray.remote"
        )

    def submitted(self, call: ast.Call) -> RemoteDef | None:
        assert isinstance(call.func, ast.Attribute)
        return self.remote_of(call.func.value)

    def is_ref_submission(self, node: ast.AST) -> bool:
        """A ``.remote(...)`` call that returns an ObjectRef (not an actor creation)."""
        if not self.is_submission(node):
            return False
        assert isinstance(node, ast.Call)
        receiver = node.func.value  # type: ignore[attr-defined]
        if self.is_ray_call(receiver, "remote"):
            # ray.remote(f).remote(): the kind of f decides
            wrapped = self.remote_wrap_target(receiver)  # type: ignore[arg-type]
            defs = self.defs_by_name.get(wrapped.id, []) if isinstance(wrapped, ast.Name) else []
            return len(defs) == 1 and not isinstance(defs[0], ast.ClassDef)
        target = self.submitted(node)
        if target is not None:
            return target.kind == "task"
        # h.method.remote(): an actor method call returns a ref; a bare unknown
        # Name.remote() could be an actor class, so it is not certainly a ref.
        return isinstance(receiver, ast.Attribute) and receiver.attr != "options"

    def maybe_ref_submission(self, node: ast.AST) -> bool:
        """A ``.remote(...)`` call that is not a known actor creation.

        Enough where the context makes it a ref anyway: what ``ray.get`` receives.
        """
        if not self.is_submission(node):
            return False
        assert isinstance(node, ast.Call)
        target = self.submitted(node)
        return target is None or target.kind == "task"

    # -- structure -------------------------------------------------------
    def scope_of(self, node: ast.AST) -> ScopeNode:
        """The nearest enclosing function, lambda, class or the module."""
        parent = self.parents.get(node)
        while parent is not None:
            if isinstance(parent, SCOPE_TYPES):
                return parent
            parent = self.parents.get(parent)
        return self.tree

    def function_of(self, node: ast.AST) -> FunctionNode | ast.Lambda | None:
        """The nearest enclosing def or lambda (class bodies are skipped over)."""
        parent = self.parents.get(node)
        while parent is not None:
            if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                return parent
            parent = self.parents.get(parent)
        return None

    def statement_of(self, node: ast.AST) -> ast.stmt:
        while not isinstance(node, ast.stmt):
            node = self.parents[node]
        return node

    def loops_around(self, node: ast.AST) -> list[ast.AST]:
        """Loops (innermost first) whose every iteration runs ``node`` again.

        Stops at the enclosing function or class: a def in a loop body runs only
        when called. A ``for`` loop's iterable and the first comprehension's
        iterable run once, so they do not count.
        """
        loops: list[ast.AST] = []
        child: ast.AST = node
        parent = self.parents.get(child)
        while parent is not None and not isinstance(parent, SCOPE_TYPES):
            if isinstance(parent, (ast.For, ast.AsyncFor)):
                if child in parent.body:
                    loops.append(parent)
            elif isinstance(parent, ast.While):
                if child in parent.body or child is parent.test:
                    loops.append(parent)
            elif isinstance(parent, ast.comprehension):
                comp = self.parents[parent]
                assert isinstance(comp, COMPS)
                first = comp.generators[0] is parent
                if not (first and child is parent.iter):
                    loops.append(comp)
                child = comp
                parent = self.parents.get(child)
                continue
            elif isinstance(parent, COMPS):
                if child is not parent.generators[0]:
                    loops.append(parent)
            child = parent
            parent = self.parents.get(child)
        return loops

    def walk_scope(self, nodes: Iterable[ast.AST]) -> Iterator[ast.AST]:
        """Walk the given nodes; nested defs, lambdas and classes are yielded, not entered."""
        stack = list(nodes)
        while stack:
            node = stack.pop()
            yield node
            if not isinstance(node, SCOPE_TYPES):
                stack.extend(children(node))

    def binding_sites(self, scope: ScopeNode) -> dict[str, list[Site]]:
        """Name -> every place ``scope`` binds it directly, in source order."""
        return self._all_sites.get(id(scope)) or self._params_only(scope)

    def _params_only(self, scope: ScopeNode) -> dict[str, list[Site]]:
        return self.cache(("params", id(scope)), lambda: self._sites_with_params(scope, {}))

    def _sites_with_params(
        self, scope: ScopeNode, found: dict[str, list[Site]]
    ) -> dict[str, list[Site]]:
        if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            args = scope.args
            params: dict[str, list[Site]] = defaultdict(list)
            for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
                if a is not None:
                    params[a.arg].append(Site(None, None, (0, 0)))
            for name, sites in found.items():
                params[name].extend(sites)
            return params
        return found

    @cached_property
    def _all_sites(self) -> dict[int, dict[str, list[Site]]]:
        """Every scope's binding sites, from one pass over the nodes that bind names."""
        per_scope: dict[int, dict[str, list[Site]]] = {}
        scopes: dict[int, ScopeNode] = {}

        parents, tree = self.parents, self.tree
        # the scope around each parent met: binders share parents (``a, b = ...``, a body)
        scope_under: dict[int, ScopeNode] = {}

        def add(node: ast.AST, name: str, site: Site) -> None:
            parent = parents.get(node)
            if parent is None:
                scope: ScopeNode = tree
            else:
                known = scope_under.get(id(parent))
                if known is None:
                    known = parent if isinstance(parent, SCOPE_TYPES) else self.scope_of(parent)
                    scope_under[id(parent)] = known
                scope = known
            found = per_scope.get(id(scope))
            if found is None:
                scopes[id(scope)] = scope
                found = per_scope[id(scope)] = defaultdict(list)
            found[name].append(site)

        for node in self.stores:
            parent = self.parents.get(node)
            value: ast.expr | None = None
            anchor: ast.AST
            if isinstance(parent, ast.Assign) and any(t is node for t in parent.targets):
                value, anchor = parent.value, parent
            elif isinstance(parent, (ast.Tuple, ast.List)) and (
                element := self._unpacked(parent).get(id(node))
            ):
                # ``a, b = 1, 2``: each name gets its own element
                value, anchor = element, self.parents[parent]
            elif isinstance(parent, ast.AnnAssign) and parent.target is node:
                if parent.value is None:
                    continue  # ``x: int`` binds nothing
                value, anchor = parent.value, parent
            elif isinstance(parent, ast.NamedExpr):
                value, anchor = parent.value, self.statement_of(node)
            else:
                anchor = self._binder(node)
            add(node, node.id, Site(anchor, value, (node.lineno, node.col_offset)))
        for imp_kind in (ast.Import, ast.ImportFrom):
            for imp in self.by_type.get(imp_kind, ()):
                for alias in imp.names:  # type: ignore[attr-defined]
                    name = (alias.asname or alias.name).split(".")[0]
                    add(imp, name, Site(imp, None, (imp.lineno, imp.col_offset)))  # type: ignore[attr-defined]
        for handler in self.by_type.get(ast.ExceptHandler, ()):
            if handler.name:  # type: ignore[attr-defined]
                pos = (handler.lineno, handler.col_offset)  # type: ignore[attr-defined]
                add(handler, handler.name, Site(handler, None, pos))  # type: ignore[attr-defined]
        for kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
            for d in self.by_type.get(kind, ()):
                pos = (d.lineno, d.col_offset)  # type: ignore[attr-defined]
                add(d, d.name, Site(d, None, pos))  # type: ignore[attr-defined]
        out: dict[int, dict[str, list[Site]]] = {}
        for key, found in per_scope.items():
            for sites in found.values():
                sites.sort(key=lambda site: site.pos)
            out[key] = self._sites_with_params(scopes[key], found)
        return out

    def _unpacked(self, target: ast.Tuple | ast.List) -> dict[int, ast.expr]:
        """For ``a, b = x, y`` (a literal tuple of the same length): id(name) -> its value."""

        def build() -> dict[int, ast.expr]:
            assign = self.parents.get(target)
            if not (
                isinstance(assign, ast.Assign)
                and any(t is target for t in assign.targets)
                and isinstance(assign.value, (ast.Tuple, ast.List))
                and len(assign.value.elts) == len(target.elts)
                and not any(isinstance(e, ast.Starred) for e in (*target.elts, *assign.value.elts))
            ):
                return {}
            return {id(t): v for t, v in zip(target.elts, assign.value.elts, strict=True)}

        return self.cache(("unpacked", id(target)), build)

    def _binder(self, target: ast.AST) -> ast.AST:
        """The node whose execution binds ``target``: a loop, ``with``, comprehension,
        or the statement around it."""
        child, parent = target, self.parents.get(target)
        while parent is not None and not isinstance(parent, ast.stmt):
            if isinstance(parent, ast.comprehension) and child is parent.target:
                return self.parents[parent]
            child, parent = parent, self.parents.get(parent)
        return parent if parent is not None else target

    def bindings(self, scope: ScopeNode) -> dict[str, list[ast.expr | None]]:
        """Name -> values assigned to it directly in ``scope`` (None: bound otherwise).

        Example: for ``x = np.zeros(3); for y in z: ...`` -> ``{"x": [<call>], "y": [None]}``.
        """
        return self.cache(
            ("bindings", id(scope)),
            lambda: {
                name: [site.value for site in sites]
                for name, sites in self.binding_sites(scope).items()
            },
        )

    # -- flow-sensitive resolution ----------------------------------------
    def reaching(self, use: ast.Name) -> list[ast.expr | None] | None:
        """Values of the bindings of ``use.id`` that may reach this read (None items: bound
        otherwise, or maybe unbound here); None when no enclosing scope binds the name.

        In the scope of the read, the nearest binding that precedes it on every path wins,
        plus the bindings on branches after it and, in a loop, those that come round
        again. A name read from an enclosing scope may see any of its bindings.

        Example: ``x = 1; x = f(); use(x)`` -> ``[<f()>]``.
        """
        return self.cache(("reach", id(use)), lambda: self._reaching(use))

    def _reaching(self, use: ast.Name) -> list[ast.expr | None] | None:
        scopes = self.enclosing_scopes(use)
        if not scopes or scopes[-1] is not self.tree:
            scopes.append(self.tree)
        # a default or decorator of a def runs in the scope around the def
        while len(scopes) > 1 and not self._in_body(use, scopes[0]):
            scopes.pop(0)
        for index, scope in enumerate(scopes):
            sites = self.binding_sites(scope).get(use.id)
            if not sites:
                continue
            if index:
                return [site.value for site in sites]
            return [site.value if site else None for site in self._reaching_sites(use, sites)]
        return None

    def _reaching_sites(self, use: ast.AST, sites: list[Site]) -> list[Site | None]:
        chain: list[ast.AST] = []
        node: ast.AST | None = use
        while node is not None and not (
            isinstance(node, _FUNCTION_SCOPES) and (not chain or _holds(node, chain[-1]))
        ):
            chain.append(node)
            node = self.parents.get(node)
        on_path = {id(n): i for i, n in enumerate(chain)}
        pos = (getattr(use, "lineno", 0), getattr(use, "col_offset", 0))
        dominating: Site | None = None
        before: list[Site] = []
        after: list[Site] = []
        for site in sites:
            anchor = site.anchor
            if anchor is None:
                kind = "dom"
            elif id(anchor) in on_path:
                at = on_path[id(anchor)]
                child = chain[at - 1] if at else anchor
                grandchild = chain[at - 2] if at > 1 else child
                kind = "dom" if _binds_before(anchor, child, grandchild) else "after"
            elif self._precedes(anchor, chain):
                kind = "dom"
            else:
                kind = "before" if site.pos < pos else "after"
            if kind == "dom":
                if dominating is None or site.pos >= dominating.pos:
                    dominating = site
            elif kind == "before":
                before.append(site)
            else:
                after.append(site)
        out: list[Site | None] = [dominating]
        floor = dominating.pos if dominating is not None else (-1, -1)
        out.extend(s for s in before if s.pos > floor)
        loops = [n for n in chain if isinstance(n, (ast.For, ast.AsyncFor, ast.While, *COMPS))]
        for site in after:
            for loop in loops:
                if site.anchor is not None and self._inside(site.anchor, loop):
                    killed = (
                        dominating is not None
                        and dominating.anchor is not None
                        and dominating.anchor is not loop
                        and self._inside(dominating.anchor, loop)
                    )
                    if not killed:
                        out.append(site)
                    break
        return out

    def _in_body(self, node: ast.AST, scope: ast.AST) -> bool:
        """Is ``node`` in the body of ``scope`` (not its defaults or decorators)?"""
        child, parent = node, self.parents.get(node)
        while parent is not None and parent is not scope:
            child, parent = parent, self.parents.get(parent)
        return parent is None or _holds(scope, child)

    def _inside(self, node: ast.AST, ancestor: ast.AST) -> bool:
        parent = self.parents.get(node)
        while parent is not None:
            if parent is ancestor:
                return True
            parent = self.parents.get(parent)
        return False

    def _slots(self, parent: ast.AST) -> dict[int, tuple[str, int]]:
        """id(child statement) -> (field, index) in ``parent``'s statement lists."""

        def build() -> dict[int, tuple[str, int]]:
            slots: dict[int, tuple[str, int]] = {}
            for field in parent._fields:
                value = getattr(parent, field, None)
                if type(value) is list:
                    for i, item in enumerate(value):
                        slots[id(item)] = (field, i)
            return slots

        return self.cache(("slots", id(parent)), build)

    def _precedes(self, anchor: ast.AST, chain: list[ast.AST]) -> bool:
        """Is ``anchor`` a statement earlier in a block that holds one of ``chain``?"""
        if not isinstance(anchor, ast.stmt):
            return False
        parent = self.parents.get(anchor)
        if parent is None:
            return False
        slots = self._slots(parent)
        mine = slots.get(id(anchor))
        if mine is None:
            return False
        for node in chain:
            if self.parents.get(node) is parent:
                theirs = slots.get(id(node))
                return theirs is not None and theirs[0] == mine[0] and theirs[1] > mine[1]
        return False

    @cached_property
    def symtables(self) -> dict[tuple[str, int], symtable.SymbolTable]:
        """(name, line) -> the symbol table of each def/class in the file."""
        tables: dict[tuple[str, int], symtable.SymbolTable] = {}
        try:
            top = symtable.symtable(self.source, self.path, "exec")
        except (SyntaxError, ValueError, RecursionError):
            return tables
        stack = [top]
        while stack:
            table = stack.pop()
            tables[(table.get_name(), table.get_lineno())] = table
            stack.extend(table.get_children())
        return tables

    def table_of(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
    ) -> symtable.SymbolTable | None:
        # symtable numbers a decorated def by its first decorator's line
        line = node.decorator_list[0].lineno if node.decorator_list else node.lineno
        if self.parents.get(node) is self.tree:
            # A module-level def scopes the same alone as in its file: build the table of
            # its own lines only, not of the whole file (symtable parses what it gets).
            return self.cache(("table", id(node)), lambda: self._own_table(node, line))
        return self.symtables.get((node.name, line)) or self.symtables.get((node.name, node.lineno))

    def _own_table(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, line: int
    ) -> symtable.SymbolTable | None:
        end = node.end_lineno or node.lineno
        text = "".join(self._lines[line - 1 : end])
        try:
            top = symtable.symtable(text, self.path, "exec")
        except (SyntaxError, ValueError, RecursionError):
            return None
        # the one statement of ``text``; a lambda in a decorator is a child named "lambda"
        found = [t for t in top.get_children() if t.get_name() == node.name]
        return found[0] if len(found) == 1 else None

    @cached_property
    def _lines(self) -> list[str]:
        """The source's lines as the parser counts them (``\\n``, ``\\r\\n``, ``\\r``)."""
        return _LINE.findall(self.source)

    def body_nodes(self, fn: FunctionNode) -> list[ast.AST]:
        """``list(walk_scope(fn.body))``, kept: several rules walk each remote function."""
        return self.cache(("body_nodes", id(fn)), lambda: list(self.walk_scope(fn.body)))

    def subtree(self, node: ast.AST) -> list[ast.AST]:
        """``list(walk(node))``, kept: a remote definition is walked by several rules."""
        return self.cache(("subtree", id(node)), lambda: list(walk(node)))

    def loaded_names(self, node: ast.AST) -> frozenset[str]:
        """Every name read anywhere under ``node`` (its decorators and defaults too):
        a superset of the names ``outside_names`` can give, found without a symbol
        table (``super()`` reads ``__class__``)."""

        def build() -> frozenset[str]:
            names = {
                n.id
                for n in self.subtree(node)
                if isinstance(n, ast.Name) and type(n.ctx) is ast.Load
            }
            if "super" in names:
                names.add("__class__")
            return frozenset(names)

        return self.cache(("loaded_names", id(node)), build)

    def outside_names(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
    ) -> dict[str, str]:
        """Names the definition reads from outside itself: name -> "global" or "free".

        Includes names read in nested scopes (methods, comprehensions, inner defs)
        that are not bound anywhere inside the definition.
        """
        table = self.table_of(node)
        if table is None:
            return {}
        inner_bound: set[str] = set()
        result: dict[str, str] = {}
        stack: list[tuple[symtable.SymbolTable, bool]] = [(table, True)]
        tables: list[tuple[symtable.SymbolTable, bool]] = []
        while stack:
            t, is_top = stack.pop()
            tables.append((t, is_top))
            for sym in t.get_symbols():
                if sym.is_local() and not (t.get_type() == "class" and not is_top):
                    inner_bound.add(sym.get_name())
            stack.extend((c, False) for c in t.get_children())
        is_class = table.get_type() == "class"
        for t, is_top in tables:
            for sym in t.get_symbols():
                if not sym.is_referenced():
                    continue
                name = sym.get_name()
                if sym.is_global() and not (is_class and is_top and sym.is_local()):
                    result.setdefault(name, "global")
                elif sym.is_free() and name not in inner_bound:
                    result.setdefault(name, "free")
        return result

    def name_uses(self, scope_node: ast.AST, name: str) -> list[ast.Name]:
        """Loads of ``name`` inside ``scope_node`` that refer to the same variable, in order.

        Nested functions, lambdas, classes and comprehensions that bind ``name`` themselves
        (a parameter, a local, a loop variable) are skipped, as Python scopes them.
        """
        uses: list[ast.Name] = []
        stack: list[ast.AST] = [scope_node]
        while stack:
            node = stack.pop()
            if node is not scope_node and self._shadows(node, name):
                stack.extend(self._outer_parts(node))
                continue
            if isinstance(node, ast.Name):
                if node.id == name and isinstance(node.ctx, ast.Load):
                    uses.append(node)
                continue
            stack.extend(ast.iter_child_nodes(node))
        uses.sort(key=lambda n: (n.lineno, n.col_offset))
        return uses

    def _shadows(self, node: ast.AST, name: str) -> bool:
        """Does the nested scope ``node`` bind ``name`` locally?"""
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            if name not in self.bindings(node):
                return False
            declared = self.cache(
                ("declared", id(node)),
                lambda: {
                    n
                    for g in self.walk_scope(
                        [node.body] if isinstance(node, ast.Lambda) else node.body
                    )
                    if isinstance(g, (ast.Global, ast.Nonlocal))
                    for n in g.names
                },
            )
            return name not in declared
        if isinstance(node, COMPS):
            return any(
                isinstance(t, ast.Name) and t.id == name
                for g in node.generators
                for t in walk(g.target)
            )
        return False

    @staticmethod
    def _outer_parts(node: ast.AST) -> list[ast.AST]:
        """The parts of a scope-making node that run in the enclosing scope."""
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args
            return [*node.decorator_list, *args.defaults, *(d for d in args.kw_defaults if d)]
        if isinstance(node, ast.Lambda):
            return [*node.args.defaults, *(d for d in node.args.kw_defaults if d)]
        if isinstance(node, COMPS):
            return [node.generators[0].iter]
        return []

    def enclosing_scopes(self, node: ast.AST) -> list[ScopeNode]:
        scopes: list[ScopeNode] = []
        parent = self.parents.get(node)
        while parent is not None:
            if isinstance(parent, SCOPE_TYPES) and not isinstance(parent, ast.ClassDef):
                scopes.append(parent)
            parent = self.parents.get(parent)
        return scopes

    def binding_of(self, node: ast.AST, name: str, where: str) -> list[ast.expr | None] | None:
        """The values bound to ``name`` where ``node`` reads it from (free or global)."""
        scopes = self.enclosing_scopes(node)
        if where == "global":
            return self.bindings(self.tree).get(name)
        for scope in scopes:
            if isinstance(scope, ast.Module):
                break
            found = self.bindings(scope).get(name)
            if found:
                return found
        return None

    def resolve_value(self, name: ast.Name) -> ast.expr | None:
        """The one value ``name`` holds where it is read, if exactly one binding reaches it.

        Bound by a loop, a parameter or an import, or by two assignments that both may
        reach the read: None. See ``reaching``.
        """
        values = self.reaching(name)
        if values and len(values) == 1:
            return values[0]
        return None

    def mutations_of(self, name: str, scope: ScopeNode) -> list[ast.AST]:
        """Statements/calls in ``scope`` that mutate the object bound to ``name``.

        ``name[k] = v``, ``del name[k]``, ``name.attr = v``, ``name.append(...)`` and kin.
        """
        return self._all_mutations.get(id(scope), {}).get(name, [])

    @cached_property
    def _all_mutations(self) -> dict[int, dict[str, list[ast.AST]]]:
        """Per scope, name -> its mutations; one pass over the nodes that can mutate."""
        index: dict[int, dict[str, list[ast.AST]]] = {}

        def add(node: ast.AST, name: str) -> None:
            index.setdefault(id(self.scope_of(node)), defaultdict(list))[name].append(node)

        for kind in (ast.Subscript, ast.Attribute):
            for node in self.by_type.get(kind, ()):
                assert isinstance(node, (ast.Subscript, ast.Attribute))
                if isinstance(node.ctx, (ast.Store, ast.Del)) and isinstance(node.value, ast.Name):
                    add(node, node.value.id)
        for call in self.calls:
            func = call.func
            if (
                isinstance(func, ast.Attribute)
                and func.attr in MUTATORS
                and isinstance(func.value, ast.Name)
            ):
                add(call, func.value.id)
        for found in index.values():
            for items in found.values():
                items.sort(key=lambda n: (n.lineno, n.col_offset))  # type: ignore[attr-defined]
        return index

    def live_mutations(self, name: ast.Name, value: ast.expr) -> list[ast.AST]:
        """Mutations of the object that the binding ``name = value`` made, where that
        binding reaches them (a later rebinding starts a new object)."""
        out: list[ast.AST] = []
        for m in self.mutations_of(name.id, self.scope_of(value)):
            base = m.func.value if isinstance(m, ast.Call) else m.value  # type: ignore[attr-defined]
            reach = self.reaching(base) if isinstance(base, ast.Name) else None
            if reach is None or any(v is value for v in reach):
                out.append(m)
        return out

    def attribute_index(self, owner: ast.AST) -> tuple[dict[str, list[ast.Attribute]], set[str]]:
        """Under ``owner`` (a class, or the module outside classes): stores to each dotted
        attribute (``self.refs``), and the dotted attributes a mutating method is called on.
        """
        empty: tuple[dict[str, list[ast.Attribute]], set[str]] = ({}, set())
        return self._attribute_index.get(id(owner), empty)

    @cached_property
    def _attribute_index(self) -> dict[int, tuple[dict[str, list[ast.Attribute]], set[str]]]:
        index: dict[int, tuple[dict[str, list[ast.Attribute]], set[str]]] = {}

        def entry(node: ast.AST) -> tuple[dict[str, list[ast.Attribute]], set[str]]:
            owner: ast.AST = self.tree
            parent = self.parents.get(node)
            while parent is not None:
                if isinstance(parent, ast.ClassDef):
                    owner = parent
                    break
                parent = self.parents.get(parent)
            return index.setdefault(id(owner), (defaultdict(list), set()))

        for attr in self.of_type(ast.Attribute):
            if not isinstance(attr.ctx, ast.Load):
                key = dotted(attr)
                if key is not None:
                    entry(attr)[0][key].append(attr)
        for call in self.calls:
            if isinstance(call.func, ast.Attribute) and call.func.attr in MUTATORS:
                key = dotted(call.func.value)
                if key is not None:
                    entry(call)[1].add(key)
        return index

    def call_name(self, call: ast.Call) -> str | None:
        """``np.zeros`` for ``numpy.zeros`` style calls; qualified when imported."""
        return self.qualname(call.func) or dotted(call.func)


def _binds_before(anchor: ast.AST, child: ast.AST, grandchild: ast.AST) -> bool:
    """Does ``anchor`` bind its names before running ``child`` (one of its parts; the
    ``grandchild`` below it tells a comprehension's first iterable from its filters)?"""
    if isinstance(anchor, (ast.For, ast.AsyncFor, ast.With, ast.AsyncWith, ast.ExceptHandler)):
        return any(child is stmt for stmt in anchor.body)
    if isinstance(anchor, COMPS):
        first = anchor.generators[0]
        return not (child is first and grandchild is first.iter)
    return False


def _holds(scope: ast.AST, child: ast.AST) -> bool:
    """Is ``child`` (a direct part of ``scope``) run inside the scope itself?"""
    if isinstance(scope, ast.Lambda):
        return child is scope.body
    if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return any(child is stmt for stmt in scope.body)
    return True
