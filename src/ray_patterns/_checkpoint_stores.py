"""Where checkpoints live: a directory / fsspec URL, or Ray's internal KV store.

A store keeps numbered blobs under a key (``write``, ``list``, ``read``,
``delete``); :func:`open_store` turns what the user passed to ``checkpointed``
(a path, a URL, ``"ray-kv://"`` or an object with those four methods) into one.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import uuid
from typing import Any, Protocol

from ray_patterns._checkpoint_format import CheckpointError, check_key, file_name, seq_of

__all__ = ["CheckpointStore", "FsspecStore", "KVStore", "open_store"]


class CheckpointStore(Protocol):
    """Where checkpoints live: numbered blobs under a key."""

    def write(self, key: str, seq: int, blob: bytes) -> str: ...

    def list(self, key: str) -> list[tuple[int, str]]: ...

    def read(self, key: str, seq: int) -> bytes: ...

    def delete(self, key: str, seq: int) -> None: ...


class FsspecStore:
    """A directory or fsspec URL; each checkpoint is ``<root>/<key>/ckpt-<seq>.bin``.

    Example: ``FsspecStore("s3://bucket/ckpt")`` or ``FsspecStore("/nfs/ckpt")``.
    ``fsync=True`` (local files) also survives a machine crash, at a cost per call.
    """

    def __init__(self, url: str | os.PathLike[str], *, fsync: bool = False):
        import fsspec.core

        self.url = os.fspath(url)
        self.fsync = fsync
        fs, root = fsspec.core.url_to_fs(self.url)
        self._fs = fs
        self._root = root.rstrip("/")
        self._local = "file" in (fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,))
        self._dirs: dict[str, str] = {}
        # temporary names unique to this process's store: a random tag made once and a
        # counter, not a uuid4 (a getrandom call) per write
        self._tag = uuid.uuid4().hex[:16]
        self._count = itertools.count()

    def __reduce__(self) -> tuple[Any, ...]:
        return (FsspecStore, (self.url,), {"fsync": self.fsync})

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.fsync = state["fsync"]

    def _dir(self, key: str) -> str:
        d = self._dirs.get(key)
        if d is None:
            d = self._dirs[key] = f"{self._root}/{check_key(key)}"
        return d

    def where(self, key: str, seq: int) -> str:
        return f"{self._dir(key)}/{file_name(seq)}"

    def write(self, key: str, seq: int, blob: bytes) -> str:
        final = self.where(key, seq)
        tmp = f"{self._dir(key)}/.tmp-{self._tag}-{next(self._count)}"
        if self._local:
            # Plain os calls, as few as a save can take (this runs before every reply
            # with every=1): open, write, close, rename. A real atomic rename (fsspec's
            # local mv may copy across devices); the directory is made only when
            # opening in it fails, not checked on every save.
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
            try:
                fd = os.open(tmp, flags, 0o666)
            except FileNotFoundError:
                os.makedirs(self._dir(key), exist_ok=True)
                fd = os.open(tmp, flags, 0o666)
            try:
                try:
                    view = memoryview(blob)
                    while view:
                        view = view[os.write(fd, view) :]
                    if self.fsync:
                        os.fsync(fd)
                finally:
                    os.close(fd)
                os.replace(tmp, final)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.remove(tmp)
                raise
        else:
            self._fs.makedirs(self._dir(key), exist_ok=True)
            with self._fs.open(tmp, "wb") as fh:
                fh.write(blob)
            # Object stores have no atomic rename; mv is copy+delete there, and
            # the checksum catches a half-written object.
            self._fs.mv(tmp, final)
        return final

    def list(self, key: str) -> list[tuple[int, str]]:
        d = self._dir(key)
        try:
            names = os.listdir(d) if self._local else self._fs.ls(d, detail=False)
        except (FileNotFoundError, NotADirectoryError):
            return []
        out = [(s, f"{d}/{n.rsplit('/', 1)[-1]}") for n in names if (s := seq_of(n)) is not None]
        return sorted(out)

    def read(self, key: str, seq: int) -> bytes:
        path = self.where(key, seq)
        if self._local:
            with open(path, "rb") as fh:
                return fh.read()
        with self._fs.open(path, "rb") as fh:
            return fh.read()  # type: ignore[no-any-return]

    def delete(self, key: str, seq: int) -> None:
        path = self.where(key, seq)
        try:
            if self._local:
                os.remove(path)
            else:
                self._fs.rm(path)
        except FileNotFoundError:
            pass


def _kv_limit() -> int:
    # The KV put travels in one gRPC message; Ray's limit is max_grpc_message_size
    # (512 MiB unless RAY_max_grpc_message_size says otherwise). Leave room for
    # the key and the message envelope.
    from ray._private import ray_constants

    limit = int(
        os.environ.get("RAY_max_grpc_message_size", ray_constants.GRPC_CPP_MAX_MESSAGE_SIZE)
    )
    return limit - (1 << 20)


class KVStore:
    """Ray's internal KV store (in the GCS): no shared disk needed, small state only.

    ``max_bytes`` defaults to Ray's limit for one KV value; anything bigger is refused
    with an error naming the size. Example: ``checkpointed(KVStore(), every=10)``.
    """

    url = "ray-kv://"

    def __init__(self, namespace: str = "ray_patterns_ckpt", *, max_bytes: int | None = None):
        self.namespace = namespace
        self.max_bytes = _kv_limit() if max_bytes is None else max_bytes

    def _k(self, key: str, seq: int) -> bytes:
        return f"{check_key(key)}/{file_name(seq)}".encode()

    def where(self, key: str, seq: int) -> str:
        return f"ray-kv://{self.namespace}/{self._k(key, seq).decode()}"

    def write(self, key: str, seq: int, blob: bytes) -> str:
        from ray.experimental import internal_kv

        if len(blob) > self.max_bytes:
            raise CheckpointError(
                f"checkpoint of {len(blob) / 2**20:.1f} MiB exceeds the KV store limit of "
                f"{self.max_bytes / 2**20:.1f} MiB; Ray's internal KV is for small state: "
                "use a shared directory or an fsspec URL (s3://...) as the store"
            )
        internal_kv._internal_kv_put(self._k(key, seq), blob, namespace=self.namespace)
        return self.where(key, seq)

    def list(self, key: str) -> list[tuple[int, str]]:
        from ray.experimental import internal_kv

        prefix = f"{check_key(key)}/".encode()
        names = internal_kv._internal_kv_list(prefix, namespace=self.namespace)
        out = []
        for n in names:
            text = n.decode() if isinstance(n, bytes) else n
            s = seq_of(text)
            if s is not None:
                out.append((s, f"ray-kv://{self.namespace}/{text}"))
        return sorted(out)

    def read(self, key: str, seq: int) -> bytes:
        from ray.experimental import internal_kv

        blob = internal_kv._internal_kv_get(self._k(key, seq), namespace=self.namespace)
        if blob is None:
            raise FileNotFoundError(self.where(key, seq))
        return blob  # type: ignore[no-any-return]

    def delete(self, key: str, seq: int) -> None:
        from ray.experimental import internal_kv

        internal_kv._internal_kv_del(self._k(key, seq), namespace=self.namespace)


def open_store(store: Any) -> Any:
    """A store object from a path, URL, ``"ray-kv://[namespace]"`` or a store object."""
    if isinstance(store, str) and store.startswith("ray-kv://"):
        ns = store[len("ray-kv://") :].strip("/")
        return KVStore(ns) if ns else KVStore()
    if isinstance(store, (str, os.PathLike)):
        return FsspecStore(store)
    if all(callable(getattr(store, m, None)) for m in ("write", "list", "read", "delete")):
        return store
    raise TypeError(
        "store must be a directory path, an fsspec URL, 'ray-kv://' or an object with "
        f"write/list/read/delete methods, got {type(store).__name__}"
    )
