"""RAY404 out-of-band-object-ref-serialization: pickling an ObjectRef."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ray_patterns.lint.core import Rule
from ray_patterns.lint.flow import is_ref, ref_list
from ray_patterns.lint.model import Module, dotted

_PICKLERS = frozenset(
    {
        f"{module}.{fn}"
        for module in ("pickle", "cloudpickle", "ray.cloudpickle", "dill", "_pickle")
        for fn in ("dumps", "dump")
    }
)


class OutOfBandObjectRefSerialization(Rule):
    """An `ObjectRef` serialized with `pickle` / `cloudpickle` / `dill`.

    ## What it does
    Flags a ref turned into its hex id and back (`ref.hex()` of a certain ref,
    `ray.ObjectRef(bytes.fromhex(h))`, `ray.ObjectRef.from_hex(h)`), and
    `pickle.dumps(ref)` / `pickle.dump(ref, f)` (and the `cloudpickle`,
    `ray.cloudpickle` and `dill` equivalents) when the object is certainly an
    `ObjectRef` or a list of them: the result of `.remote(...)` or `ray.put(...)`.

    ## Why is this bad?
    Ray counts references to decide when an object can be freed. A ref pickled
    outside Ray's own serialization is invisible to that count, so Ray pins the
    object for the life of its owner (a leak) and, if the owner dies, the ref
    cannot be resolved any more.

    ## Example
    ```python
    ref = ray.put(data)
    blob = pickle.dumps(ref)
    ```

    ## Use instead
    Pass refs through Ray (task arguments, actor calls, return values) or store
    the data itself:
    ```python
    ref = ray.put(data)
    consumer.remote(ref)
    ```
    """

    code = "RAY404"
    name = "out-of-band-object-ref-serialization"
    needs = (
        ("remote", "ray.put", "ObjectRef"),
        ("dumps", "dump", "hex", "from_hex", "fromhex", "unhexlify", "a2b_hex"),
    )
    message = (
        "an ObjectRef pickled out of band escapes Ray's reference counting (the object is "
        "pinned, or lost with its owner); pass refs through Ray calls instead"
    )

    hex_message = (
        "{what}: a ref passed as its hex id escapes Ray's reference counting, so the object "
        "can be freed before it is rebuilt; pass the ObjectRef itself through Ray calls"
    )

    def check(self, mod: Module) -> Iterator[tuple[ast.AST, str]]:
        for call in mod.calls:
            # what every shape below calls last: skip the other calls before resolving names
            func = call.func
            if isinstance(func, ast.Attribute):
                last = func.attr
            elif isinstance(func, ast.Name):
                last = mod.imports.get(func.id, "").rsplit(".", 1)[-1]
            else:
                continue
            if last not in _LAST_NAMES:
                continue
            hexed = _hex_round_trip(call, mod)
            if hexed is not None:
                yield call, self.hex_message.format(what=hexed)
                continue
            if not call.args or mod.qualname(call.func) not in _PICKLERS:
                continue
            arg = call.args[0]
            if is_ref(arg, mod) or ref_list(arg, mod) is not None:
                yield call, self.message
            elif isinstance(arg, (ast.List, ast.Tuple)) and arg.elts:
                if all(is_ref(e, mod) for e in arg.elts):
                    yield call, self.message


_OBJECT_REFS = frozenset({"ray.ObjectRef", "ray._raylet.ObjectRef", "ray.types.ObjectRef"})
_LAST_NAMES = frozenset({"ObjectRef", "from_hex", "hex", "dumps", "dump"})
_UNHEX = frozenset({"bytes.fromhex", "binascii.unhexlify", "binascii.a2b_hex"})


def _hex_round_trip(call: ast.Call, mod: Module) -> str | None:
    """``ray.ObjectRef(bytes.fromhex(h))``, ``ray.ObjectRef.from_hex(h)``, ``ref.hex()``."""
    name = mod.qualname(call.func) or ""
    if name in _OBJECT_REFS and len(call.args) == 1:
        inner = call.args[0]
        if isinstance(inner, ast.Call):
            inner_name = mod.qualname(inner.func) or dotted(inner.func) or ""
            if inner_name in _UNHEX:
                return "ObjectRef rebuilt from a hex string"
    if name.endswith(".from_hex") and name[: -len(".from_hex")] in _OBJECT_REFS:
        return "ObjectRef rebuilt from a hex string"
    func = call.func
    if (
        isinstance(func, ast.Attribute)
        and func.attr == "hex"
        and not call.args
        and is_ref(func.value, mod)
    ):
        return "ObjectRef turned into a hex string"
    return None
