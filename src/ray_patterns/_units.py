"""One unit convention and one threshold per concept, shared by lint, doctor and bench.

Sizes are binary (KiB, MiB, GiB), as Ray's own memory figures are.

>>> human_bytes(3 * MIB)
'3.0 MiB'
"""

from __future__ import annotations

KIB = 1 << 10
MIB = 1 << 20
GIB = 1 << 30

#: a value at least this big is "large": closure-capture, pass-large-arg-by-value,
#: unnecessary-ray-get, too-many-results and unbounded-submission judge by it
LARGE_OBJECT_BYTES = MIB
#: Ray inlines task returns up to this size (``max_direct_call_object_size``)
RAY_INLINE_RETURN_BYTES = 100 * KIB
#: "many" calls or items: fine-grained-tasks, too-many-results, unbounded-submission
MANY_ITEMS = 1000


def human_bytes(n: float) -> str:
    """``1.5 MiB`` style; the one formatter of sizes in every report.

    >>> human_bytes(512), human_bytes(1536)
    ('512 B', '1.5 KiB')
    """
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"  # pragma: no cover
