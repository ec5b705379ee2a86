"""Bytecode and object introspection: what a remote function or class is, reads and carries."""

from __future__ import annotations

import dis
import inspect
from types import CodeType, FunctionType, ModuleType
from typing import Any

from ray_patterns.doctor._records import Site
from ray_patterns.doctor._sizes import sizeof


def _target_of(remote_obj: Any) -> Any:
    """The user's function or class behind a RemoteFunction / ActorClass."""
    function = remote_obj.__dict__.get("_function") if hasattr(remote_obj, "__dict__") else None
    if function is not None:
        return inspect.unwrap(function)
    metadata = getattr(remote_obj, "__ray_metadata__", None)
    modified = getattr(metadata, "modified_class", None)
    if modified is None:
        return remote_obj
    # Ray subclasses the user's class; the user's own is kept on it
    return getattr(modified, "__ray_actor_class__", modified)


def _qualname(target: Any) -> str:
    return f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', '?')}"


def _code_objects(target: Any) -> list[CodeType]:
    """The code of a function, or of every method of a class (own methods only)."""
    if isinstance(target, FunctionType):
        return [target.__code__]
    out = []
    for value in vars(target).values() if inspect.isclass(target) else ():
        fn = value.__func__ if isinstance(value, (staticmethod, classmethod)) else value
        if isinstance(fn, FunctionType):
            out.append(fn.__code__)
    return out


def _definition_key(target: Any) -> tuple[str, str, int]:
    codes = _code_objects(target)
    if codes:
        first = min(codes, key=lambda c: c.co_firstlineno)
        return (first.co_filename, _qualname(target), first.co_firstlineno)
    return ("?", _qualname(target), 0)


def _definition_site(target: Any) -> Site | None:
    codes = _code_objects(target)
    if not codes:
        return None
    first = min(codes, key=lambda c: c.co_firstlineno)
    return (first.co_filename, first.co_firstlineno)


def _globals_of(target: Any) -> dict[str, Any]:
    if isinstance(target, FunctionType):
        return target.__globals__
    for value in vars(target).values() if inspect.isclass(target) else ():
        fn = value.__func__ if isinstance(value, (staticmethod, classmethod)) else value
        if isinstance(fn, FunctionType):  # the namespace the methods really read
            return fn.__globals__
    module = inspect.getmodule(target)
    return vars(module) if module is not None else {}


def _global_reads(target: Any) -> dict[str, Site]:
    """Module-global names the code reads, with the line of the first read."""
    reads: dict[str, Site] = {}
    stack = _code_objects(target)
    while stack:
        code = stack.pop()
        line = code.co_firstlineno
        for instr in dis.get_instructions(code):
            positions = getattr(instr, "positions", None)  # 3.11+
            if positions is not None and positions.lineno:
                line = positions.lineno
            elif isinstance(instr.starts_line, int) and not isinstance(instr.starts_line, bool):
                line = instr.starts_line
            if instr.opname == "LOAD_GLOBAL" and instr.argval not in reads:
                reads[str(instr.argval)] = (code.co_filename, line)
        stack.extend(c for c in code.co_consts if isinstance(c, CodeType))
    return reads


def _is_data(value: Any) -> bool:
    """A value a task could read as data (not a module, function, class or remote handle)."""
    if isinstance(value, (ModuleType, type, FunctionType)) or callable(value):
        return False
    return not hasattr(value, "remote")


def _pickled_by_value(target: Any) -> bool:
    """cloudpickle ships functions of ``__main__`` or defined in a function by value."""
    module = getattr(target, "__module__", "__main__")
    return module == "__main__" or "<locals>" in getattr(target, "__qualname__", "")


def _captured_sizes(target: Any) -> list[tuple[str, int]]:
    """Names the definition carries with it when pickled, biggest first."""
    if not _pickled_by_value(target):
        return []
    sizes: dict[str, int] = {}
    functions: list[Any] = []
    if isinstance(target, FunctionType):
        functions = [target]
    elif inspect.isclass(target):
        for value in vars(target).values():
            fn = value.__func__ if isinstance(value, (staticmethod, classmethod)) else value
            if isinstance(fn, FunctionType):
                functions.append(fn)
    for fn in functions:
        try:
            found = inspect.getclosurevars(fn)
        except (TypeError, ValueError):
            continue
        scopes: list[dict[str, Any]] = [dict(found.nonlocals)]
        if _pickled_by_value(fn):
            scopes.append(dict(found.globals))
        for scope in scopes:
            for name, value in scope.items():
                if _is_data(value) and name not in sizes:
                    sizes[name] = sizeof(value)
    return sorted(sizes.items(), key=lambda kv: -kv[1])
