"""_ray.remote_once: the one "make it remote once" policy every page uses (no Ray needed)."""

from __future__ import annotations

from typing import Any

from ray_patterns import _ray
from ray_patterns._ray import remote_once


class Unhashable:
    """A callable instance with __eq__ and so no __hash__ (Python sets it to None)."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unhashable)

    def __call__(self, x: int) -> int:
        return x


class Counter:
    def __init__(self) -> None:
        self.calls = 0

    def method(self, x: int) -> int:
        return x

    def __call__(self, *parts: Any) -> tuple[Any, ...]:
        self.calls += 1
        return ("made", *parts)


def test_hashable_parts_are_made_once_by_equality() -> None:
    make = Counter()
    owner = Counter()
    first = remote_once(make, owner.method)
    assert remote_once(make, owner.method) is first  # a new bound method, equal to the first
    assert make.calls == 1
    remote_once(make, Counter().method)
    assert make.calls == 2


def test_unhashable_callables_are_cached_by_identity_never_a_type_error() -> None:
    make = Counter()
    fn = Unhashable()
    first = remote_once(make, fn, sum)
    assert remote_once(make, fn, sum) is first
    assert make.calls == 1
    other = Unhashable()  # equal, but another object: its own entry
    assert remote_once(make, other, sum) is not first
    assert make.calls == 2


def test_the_cache_is_bounded() -> None:
    make = Counter()
    fns = [lambda x, i=i: x + i for i in range(_ray._REMOTES_MAX + 10)]
    for fn in fns:
        remote_once(make, fn)
    assert len(_ray._REMOTES) <= _ray._REMOTES_MAX
    remote_once(make, fns[-1])  # the newest stays cached
    assert make.calls == len(fns)
