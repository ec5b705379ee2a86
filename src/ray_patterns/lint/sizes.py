"""Static size estimates: is this iterable large, is this object big?

Only facts the file states count: literals, module constants and simple arithmetic
(``range(100_000)``, ``np.zeros((N, 384), dtype=np.float32)``, ``N = 10**6``), values
built by known constructors (numpy, torch, ``bytes``, ``"x" * n``, comprehensions and
frames of those), and what a function defined in the same file returns. Anything else
is "unknown" and rules stay silent on it.

Example::

    estimate_bytes(parse_expr("np.zeros((1000, 1000))"), mod)   # 8_000_000
"""

from __future__ import annotations

import ast
import math

from ray_patterns._units import human_bytes
from ray_patterns.lint.model import FunctionNode, Module

# Loaders whose result is large as a rule (models, frames, arrays read from disk):
# the size is unknown but capturing or re-sending them is what the handbook warns about.
LOADERS = frozenset(
    {
        "numpy.load",
        "numpy.loadtxt",
        "numpy.fromfile",
        "torch.load",
        "joblib.load",
        "pickle.load",
        "pickle.loads",
        "cloudpickle.load",
        "pandas.read_csv",
        "pandas.read_parquet",
        "pandas.read_json",
        "pandas.read_feather",
        "pandas.read_pickle",
        "pandas.read_hdf",
        "pandas.read_excel",
        "pandas.read_sql",
    }
)
LOADER_SUFFIXES = (".from_pretrained",)
# Returned by ``estimate_bytes`` for loaded objects of unknown but large size.
LARGE_UNKNOWN = 1 << 62

_ARRAY_MODULES = {"numpy": 8, "torch": 4, "cupy": 8, "jax.numpy": 4}
_DTYPE_BYTES = {
    "bool": 1,
    "bool_": 1,
    "int8": 1,
    "uint8": 1,
    "int16": 2,
    "uint16": 2,
    "float16": 2,
    "half": 2,
    "bfloat16": 2,
    "int32": 4,
    "uint32": 4,
    "float32": 4,
    "float": 4,
    "int": 8,
    "int64": 8,
    "uint64": 8,
    "float64": 8,
    "double": 8,
    "long": 8,
    "complex64": 8,
    "complex128": 16,
}
_SHAPE_FUNCS = {"zeros", "ones", "empty", "full", "rand", "randn", "random", "standard_normal"}
_MAX = 10**18


def const_int(expr: ast.AST, mod: Module, depth: int = 0) -> int | None:
    """The value of an integer expression made of literals and module constants."""
    if depth > 20:
        return None
    if isinstance(expr, ast.Constant):
        value = expr.value
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer() and abs(value) <= _MAX:
            return int(value)
        return None
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.USub):
        inner = const_int(expr.operand, mod, depth + 1)
        return None if inner is None else -inner
    if isinstance(expr, ast.BinOp):
        left = const_int(expr.left, mod, depth + 1)
        right = const_int(expr.right, mod, depth + 1)
        if left is None or right is None:
            return None
        try:
            if isinstance(expr.op, ast.Add):
                value = left + right
            elif isinstance(expr.op, ast.Sub):
                value = left - right
            elif isinstance(expr.op, ast.Mult):
                value = left * right
            elif isinstance(expr.op, ast.FloorDiv) and right:
                value = left // right
            elif isinstance(expr.op, ast.Pow) and 0 <= right <= 64 and abs(left) <= 1 << 20:
                value = left**right
            elif isinstance(expr.op, ast.LShift) and 0 <= right <= 64:
                value = left << right
            else:
                return None
        except (OverflowError, ValueError):
            return None
        return value if abs(value) <= _MAX else None
    if isinstance(expr, ast.Name):
        bound = mod.resolve_value(expr)
        if bound is not None:
            return const_int(bound, mod, depth + 1)
    if (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Name)
        and expr.func.id == "len"
        and len(expr.args) == 1
        and not mod.bindings(mod.tree).get("len")
    ):
        return iteration_count(expr.args[0], mod)
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
        return _argparse_default(expr, mod)
    return None


def _argparse_default(expr: ast.Attribute, mod: Module) -> int | None:
    """``args.num_tasks`` where ``args = parser.parse_args()`` and the parser has
    ``add_argument("--num-tasks", type=int, default=10_000)``: the default."""
    namespace = mod.resolve_value(expr.value)  # type: ignore[arg-type]
    if not (
        isinstance(namespace, ast.Call)
        and isinstance(namespace.func, ast.Attribute)
        and namespace.func.attr == "parse_args"
    ):
        return None
    return mod.cache("argparse_defaults", lambda: _argparse_defaults(mod)).get(expr.attr)


def _argparse_defaults(mod: Module) -> dict[str, int]:
    found: dict[str, list[int | None]] = {}
    for call in mod.calls:
        if not (isinstance(call.func, ast.Attribute) and call.func.attr == "add_argument"):
            continue
        flags = [a.value for a in call.args if isinstance(a, ast.Constant)]
        keywords = {kw.arg: kw.value for kw in call.keywords if kw.arg}
        dest_node = keywords.get("dest")
        if isinstance(dest_node, ast.Constant) and isinstance(dest_node.value, str):
            dest = dest_node.value
        else:
            longs = [f for f in flags if isinstance(f, str) and f.startswith("--")]
            names = longs or [f for f in flags if isinstance(f, str)]
            if not names:
                continue
            dest = names[0].lstrip("-").replace("-", "_")
        default = keywords.get("default")
        found.setdefault(dest, []).append(None if default is None else const_int(default, mod))
    # a name added twice (two parsers) is not certain
    return {k: v[0] for k, v in found.items() if len(v) == 1 and v[0] is not None}


def iteration_count(expr: ast.AST, mod: Module) -> int | None:
    """How many items a ``for`` iterates over, when written as a literal range or list.

    ``itertools.count()`` and ``iter(int, 1)`` never end: ``math.inf`` is not an int,
    so they count as ``10**18``.
    """
    if isinstance(expr, ast.Call):
        name = mod.qualname(expr.func) or (expr.func.id if isinstance(expr.func, ast.Name) else "")
        if name in ("range", "builtins.range") and not mod.bindings(mod.tree).get("range"):
            args = [const_int(a, mod) for a in expr.args]
            if not args or any(a is None for a in args) or expr.keywords:
                return None
            ints = [a for a in args if a is not None]
            start, stop, step = (0, ints[0], 1) if len(ints) == 1 else (*ints[:2], 1)
            if len(ints) == 3:
                step = ints[2]
            if step == 0:
                return None
            return max(0, math.ceil((stop - start) / step))
        if name == "itertools.count":
            return _MAX
        if name in ("enumerate", "zip", "sorted", "list", "reversed") and expr.args:
            counts = [iteration_count(a, mod) for a in expr.args[:1]]
            return counts[0]
    if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
        return len(expr.elts)
    if isinstance(expr, ast.Name):
        value = mod.resolve_value(expr)
        if value is not None and not mod.mutations_of(expr.id, mod.scope_of(value)):
            if isinstance(value, (ast.List, ast.Tuple, ast.Set)):
                return len(value.elts)
            if isinstance(value, (ast.ListComp, ast.SetComp)) and len(value.generators) == 1:
                return iteration_count(value.generators[0].iter, mod)
            if isinstance(value, ast.Call):
                return iteration_count(value, mod)
    return None


def _shape_elements(expr: ast.AST, mod: Module) -> int | None:
    if isinstance(expr, (ast.Tuple, ast.List)):
        total = 1
        for elt in expr.elts:
            n = const_int(elt, mod)
            if n is None or n < 0:
                return None
            total *= n
            if total > _MAX:
                return _MAX
        return total
    return const_int(expr, mod)


def estimate_bytes(expr: ast.AST, mod: Module, depth: int = 0) -> int | None:
    """A lower bound on the in-memory size of the object ``expr`` builds, or None."""
    if depth > 10:
        return None
    if isinstance(expr, ast.Constant):
        if isinstance(expr.value, (str, bytes)):
            return len(expr.value)
        return None
    if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
        total = 8 * len(expr.elts)
        for elt in expr.elts:
            total += estimate_bytes(elt, mod, depth + 1) or 0
        return total
    if isinstance(expr, ast.Dict):
        return 16 * len(expr.keys)
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Mult):
        # [0] * N, "x" * N, b"x" * N
        for seq, count in ((expr.left, expr.right), (expr.right, expr.left)):
            n = const_int(count, mod)
            if n is not None and isinstance(seq, (ast.List, ast.Tuple, ast.Constant)):
                unit = estimate_bytes(seq, mod, depth + 1)
                if unit is not None:
                    return unit * n
        return None
    if isinstance(expr, (ast.ListComp, ast.SetComp, ast.DictComp)):
        items = 1
        for gen in expr.generators:
            found = None if gen.ifs else iteration_count(gen.iter, mod)
            if found is None:
                return None
            items *= found
        elt = expr.value if isinstance(expr, ast.DictComp) else expr.elt
        unit = estimate_bytes(elt, mod, depth + 1) or 0
        return items * (8 + unit)
    if isinstance(expr, ast.Call):
        name = mod.call_name(expr) or ""
        if name in LOADERS or name.endswith(LOADER_SUFFIXES):
            return LARGE_UNKNOWN
        module, _, func = name.rpartition(".")
        if module.endswith(".random"):
            module = module[: -len(".random")]
        if module in _ARRAY_MODULES:
            unit = _item_bytes(expr, _ARRAY_MODULES[module])
            if func in _SHAPE_FUNCS | {"full_like", "zeros_like"}:
                sizes = [_shape_elements(a, mod) for a in expr.args]
                for kw in expr.keywords:
                    if kw.arg in ("shape", "size"):
                        sizes = [_shape_elements(kw.value, mod)]
                if func in ("rand", "randn") and len(expr.args) > 1:
                    dims = [const_int(a, mod) for a in expr.args]
                    if all(d is not None for d in dims):
                        return unit * math.prod(d for d in dims if d is not None)
                    return None
                first = sizes[0] if sizes else None
                return None if first is None else unit * first
            if func == "arange" and len(expr.args) == 1:
                n = const_int(expr.args[0], mod)
                return None if n is None else unit * n
            if func in ("randint", "normal", "uniform", "choice"):
                for kw in expr.keywords:
                    if kw.arg == "size":
                        n = _shape_elements(kw.value, mod)
                        return None if n is None else unit * n
                return None
        if name in ("bytes", "bytearray") and len(expr.args) == 1:
            return const_int(expr.args[0], mod)
        if name in ("list", "tuple", "set") and len(expr.args) == 1:
            n = iteration_count(expr.args[0], mod)
            return None if n is None else 8 * n
        if name.startswith("pandas.") and expr.args:
            return estimate_bytes(expr.args[0], mod, depth + 1)
        if isinstance(expr.func, ast.Name):
            # a function of this file: what it returns
            defs = mod.defs_by_name.get(expr.func.id, [])
            if len(defs) == 1 and not isinstance(defs[0], ast.ClassDef):
                if not any(mod.is_remote_decorator(d) for d in defs[0].decorator_list):
                    return returned_bytes(defs[0], mod, depth + 1)
    if isinstance(expr, ast.Name):
        value = mod.resolve_value(expr)
        if value is not None:
            return estimate_bytes(value, mod, depth + 1)
    return None


def size_text(size: int) -> str:
    """``human_bytes`` for an estimate; ``"large"`` for loaded data of unknown size."""
    return "large" if size >= LARGE_UNKNOWN else human_bytes(size)


def _item_bytes(call: ast.Call, default: int) -> int:
    """The element size from a ``dtype=`` keyword (``np.float32``, ``"uint8"``)."""
    for kw in call.keywords:
        if kw.arg != "dtype":
            continue
        value = kw.value
        name = value.value if isinstance(value, ast.Constant) else None
        if isinstance(value, ast.Attribute):
            name = value.attr
        elif isinstance(value, ast.Name):
            name = value.id
        if isinstance(name, str) and name in _DTYPE_BYTES:
            return _DTYPE_BYTES[name]
    return default


def returned_bytes(fn: FunctionNode, mod: Module, depth: int = 0) -> int | None:
    """The smallest size among what ``fn`` returns, when every ``return`` is estimable."""

    def compute() -> int | None:
        returns = [n for n in mod.walk_scope(fn.body) if isinstance(n, ast.Return)]
        if not returns or depth > 6:
            return None
        sizes = []
        for ret in returns:
            size = estimate_bytes(ret.value, mod, depth + 1) if ret.value is not None else None
            if size is None:
                return None
            sizes.append(size)
        return min(sizes)

    return mod.cache(("returned_bytes", id(fn), depth), compute)
