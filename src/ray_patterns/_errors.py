"""The base of every exception the library defines itself.

Catch ``ray_patterns.RayPatternsError`` to handle any failure the library reports (a
supervised call that failed for good, an unreadable checkpoint, ...). Each
subclass also keeps the builtin base it had before (``ChildFailedError`` and
``CheckpointError`` are still ``RuntimeError`` subclasses), so existing ``except``
clauses keep working. Errors raised by your own functions inside Ray tasks reach you as
Ray raises them; bad arguments are ``TypeError`` / ``ValueError`` and a stream's
timeout is ``TimeoutError``, as in the standard library.

>>> from ray_patterns.tree_of_actors import ChildFailedError
>>> issubclass(ChildFailedError, RayPatternsError) and issubclass(ChildFailedError, RuntimeError)
True
"""

from __future__ import annotations

__all__ = ["RayPatternsError"]


class RayPatternsError(Exception):
    """Base class of the library's own exceptions; ``except RayPatternsError`` catches them all."""
