"""RAY203 too-many-results: one ``ray.get`` on a large list of refs of large objects."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ray_patterns._units import GIB, LARGE_OBJECT_BYTES, MANY_ITEMS
from ray_patterns.lint.core import Rule
from ray_patterns.lint.flow import loop_count, ref_list
from ray_patterns.lint.model import Module
from ray_patterns.lint.sizes import LARGE_UNKNOWN, returned_bytes, size_text


class TooManyResults(Rule):
    """One `ray.get` on a large list of refs whose objects are large.

    ## What it does
    Flags `ray.get(refs)` when `refs` is built by a loop or comprehension over at
    least `large-iterable` items (a literal `range`, a module constant, or an
    endless iterator) and every `return` of the submitted task builds an object of
    at least `large-object-bytes` (e.g. `np.zeros((1000, 1000))`), or objects that
    add up to at least `large-total-bytes` (N x the size of one). Fewer refs are
    flagged too when their objects add up to at least `huge-total-bytes` (1 GiB:
    fifty 80 MB arrays in one `ray.get`).

    ## Why is this bad?
    All results must fit in the driver's memory (and the object store) at once:
    a million 80 MB arrays cannot. The driver dies or the object store spills.

    ## Example
    ```python
    refs = [make_array.remote(i) for i in range(100_000)]
    arrays = ray.get(refs)
    ```

    ## Use instead
    Fetch and process the results in batches, dropping each batch before the next:
    ```python
    for start in range(0, len(refs), 100):
        for array in ray.get(refs[start:start + 100]):
            process(array)
    ```
    """

    code = "RAY203"
    name = "too-many-results"
    needs = (("remote",), ("ray.get",))
    message = (
        "ray.get() on {count} refs of objects of ~{size} each needs all of them (~{total}) in "
        "memory at once; fetch and process them in batches"
    )
    defaults = {
        "large_iterable": MANY_ITEMS,
        "large_object_bytes": LARGE_OBJECT_BYTES,
        "large_total_bytes": 64 * LARGE_OBJECT_BYTES,
        "huge_total_bytes": GIB,
    }

    def check(self, mod: Module) -> Iterator[tuple[ast.AST, str]]:
        for call in mod.calls:
            if len(call.args) != 1 or not mod.is_ray_call(call, "get"):
                continue
            refs = ref_list(call.args[0], mod)
            if refs is None or refs.loop is None or refs.kind != "list":
                continue
            count = loop_count(refs.loop, mod)
            if count is None:
                continue
            size = _smallest_return(refs.submissions, mod)
            if size is None:
                continue
            total = size * count
            many = count >= self.settings["large_iterable"] and (
                size >= self.settings["large_object_bytes"]
                or total >= self.settings["large_total_bytes"]
            )
            # a few refs can hold too much too: fifty 80 MB arrays are 4 GB at once
            if not many and total < self.settings["huge_total_bytes"]:
                continue
            shown = "unbounded" if count >= 10**18 else f"{count:,}"
            yield (
                call,
                self.message.format(
                    count=shown, size=size_text(size), total=size_text(min(total, LARGE_UNKNOWN))
                ),
            )


def _smallest_return(subs: list[ast.Call], mod: Module) -> int | None:
    sizes: list[int] = []
    for sub in subs:
        target = mod.submitted(sub)
        if target is None or target.kind != "task" or isinstance(target.node, ast.ClassDef):
            return None
        size = returned_bytes(target.node, target.home(mod))
        if size is None:
            return None
        sizes.append(size)
    return min(sizes) if sizes else None
