"""The checkpoint file format: one record per file, checksummed, numbered by sequence.

A checkpoint file is ``RPCK1\\n``, a header (payload length, SHA-256 of the
payload) and the cloudpickled record ``{"state", "idempotency", "time", "seq"}``.
Files are named ``ckpt-<seq:012d>.bin`` under the actor's key, so listing a key
sorts them by age. A truncated or corrupt file fails :func:`decode` with a
:class:`CheckpointError` naming the file, never with a pickle error.
"""

from __future__ import annotations

import hashlib
import pickle
import struct
from typing import Any

from ray import cloudpickle

from ray_patterns._errors import RayPatternsError

__all__ = [
    "CheckpointError",
    "CheckpointWarning",
    "check_key",
    "decode",
    "encode",
    "file_name",
    "seq_of",
]

_MAGIC = b"RPCK1\n"
_HEADER = struct.Struct(">Q32s")  # payload length, sha256 of payload
_PREFIX = "ckpt-"
_SUFFIX = ".bin"


class CheckpointError(RayPatternsError, RuntimeError):
    """A checkpoint could not be written or read."""


class CheckpointWarning(UserWarning):
    """A checkpoint was unreadable and an older one was used instead."""


def encode(record: dict[str, Any]) -> bytes:
    """The bytes of one checkpoint file holding ``record``."""
    payload = cloudpickle.dumps(record)
    return _MAGIC + _HEADER.pack(len(payload), hashlib.sha256(payload).digest()) + payload


def decode(blob: bytes, where: str) -> dict[str, Any]:
    """The record in ``blob``, or a CheckpointError naming ``where`` and what is wrong."""
    head = len(_MAGIC) + _HEADER.size
    if len(blob) < head or not blob.startswith(_MAGIC):
        raise CheckpointError(f"{where}: not a ray-patterns checkpoint or truncated header")
    length, digest = _HEADER.unpack(blob[len(_MAGIC) : head])
    payload = blob[head:]
    if len(payload) != length:
        raise CheckpointError(f"{where}: truncated ({len(payload)} of {length} bytes)")
    if hashlib.sha256(payload).digest() != digest:
        raise CheckpointError(f"{where}: checksum mismatch")
    record = pickle.loads(payload)
    if not isinstance(record, dict) or "state" not in record:
        raise CheckpointError(f"{where}: malformed record")
    return record


def file_name(seq: int) -> str:
    return f"{_PREFIX}{seq:012d}{_SUFFIX}"


def seq_of(name: str) -> int | None:
    """The sequence number in a checkpoint file's name (None for any other file)."""
    base = name.rsplit("/", 1)[-1]
    if base.startswith(_PREFIX) and base.endswith(_SUFFIX):
        digits = base[len(_PREFIX) : -len(_SUFFIX)]
        if digits.isdigit():
            return int(digits)
    return None


def check_key(key: str) -> str:
    """``key`` if it is a safe relative name (no absolute path, no ``..``)."""
    if not isinstance(key, str) or not key or key.startswith("/") or ".." in key.split("/"):
        raise ValueError(f"checkpoint key must be a non-empty relative name, got {key!r}")
    return key
