"""Object listing and download for bill deliveries: an S3 bucket, or a local directory
laid out like one.

``open_store(uri, client)`` takes ``s3://bucket/prefix`` (read with the injected boto3 S3
client) or a local path (a directory whose tree mirrors the bucket below some prefix, as
the demo ships it). Both give the same small interface, keys are ``/``-separated and
relative to the bucket (S3) or to the directory (local), so collectors never care where
the bill lives.

Manifests name data files by their *bucket* key (``my-prefix/my-report/…``). A local
directory usually stands for a sub-prefix of the bucket, so ``LocalStore.resolve`` takes
the longest tail of such a key that exists below the directory.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from models.errors import CollectorError, InputError


@dataclass(frozen=True)
class ObjectRef:
    """One listed object: its key, size and last-modified time (UTC)."""

    key: str
    size: int
    modified: datetime


class ObjectStore(Protocol):
    def list(self, prefix: str) -> list[ObjectRef]: ...

    def read(self, key: str) -> bytes: ...

    def download(self, key: str, dest: Path) -> Path: ...

    def resolve(self, key: str) -> str: ...

    def uri(self, key: str) -> str: ...


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/a/b`` -> ("bucket", "a/b")."""
    rest = uri.removeprefix("s3://")
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise InputError(f"{uri}: no bucket in S3 URI (expected s3://bucket/prefix)")
    return bucket, prefix.strip("/")


class S3Store:
    """A bucket read through an injected boto3 S3 client."""

    def __init__(self, client: Any, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def _error(self, key: str, exc: Exception) -> CollectorError:
        return CollectorError("s3", f"{self.uri(key)}: {exc}")

    def list(self, prefix: str) -> list[ObjectRef]:
        found: list[ObjectRef] = []
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    found.append(ObjectRef(item["Key"], int(item["Size"]), item["LastModified"]))
        except Exception as exc:  # botocore ClientError / EndpointConnectionError
            raise self._error(prefix, exc) from exc
        return found

    def _missing(self, exc: Exception) -> bool:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
        return code in {"NoSuchKey", "404", "NotFound"}

    def read(self, key: str) -> bytes:
        try:
            body: bytes = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except Exception as exc:
            if self._missing(exc):
                raise InputError(f"{self.uri(key)}: object not found") from None
            raise self._error(key, exc) from exc
        return body

    def download(self, key: str, dest: Path) -> Path:
        try:
            self.client.download_file(self.bucket, key, str(dest))
        except Exception as exc:
            if self._missing(exc):
                raise InputError(f"{self.uri(key)}: object not found") from None
            raise self._error(key, exc) from exc
        return dest

    def resolve(self, key: str) -> str:
        """A manifest's ``s3://bucket/key`` -> key; read from *this* bucket (the bucket a
        delivery names is where the producer wrote it, which a copy or a mirror changes)."""
        return parse_s3_uri(key)[1] if key.startswith("s3://") else key


class LocalStore:
    """A local directory standing in for a bucket (prefix)."""

    def __init__(self, root: Path) -> None:
        if not root.exists():
            raise InputError(f"{root}: no such file or directory")
        self.root = root

    def uri(self, key: str) -> str:
        return str(self.root / key)

    def list(self, prefix: str) -> list[ObjectRef]:
        found = []
        for path in sorted(self.root.rglob("*")):
            key = path.relative_to(self.root).as_posix()
            if path.is_file() and key.startswith(prefix):
                stat = path.stat()
                found.append(
                    ObjectRef(key, stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC))
                )
        return found

    def read(self, key: str) -> bytes:
        path = self.root / key
        if not path.is_file():
            raise InputError(f"{path}: file not found")
        return path.read_bytes()

    def download(self, key: str, dest: Path) -> Path:
        path = self.root / key
        if not path.is_file():
            raise InputError(f"{path}: file not found")
        shutil.copyfile(path, dest)
        return dest

    def resolve(self, key: str) -> str:
        """The longest tail (of 3 parts or more, so another delivery's file never stands in)
        of a bucket key (or s3:// URI) that exists below the root."""
        parts = key.removeprefix("s3://").split("/")
        if key.startswith("s3://"):
            parts = parts[1:]
        for start in range(max(len(parts) - 2, 1)):
            tail = "/".join(parts[start:])
            if (self.root / tail).is_file():
                return tail
        return "/".join(parts)  # missing: read/download will name it


def resolve_listed(key: str, known: set[str]) -> str:
    """A manifest's key as listed below the URI: exact, else the one listed key ending in its
    longest tail of at least 3 parts (a bucket mirrored under another prefix keeps
    ``<period>/<assembly>/<file>`` or ``data/BILLING_PERIOD=…/<file>``). Unknown keys stay as
    they are and fail with 'not found' naming them: never another delivery's file."""
    if key in known:
        return key
    parts = key.split("/")
    for start in range(1, len(parts) - 2):
        tail = "/".join(parts[start:])
        hits = [k for k in known if k == tail or k.endswith("/" + tail)]
        if len(hits) == 1:
            return hits[0]
    return key


def local_copy(store: ObjectStore, key: str, dest: Path) -> Path:
    """The object as a local file: a local store's file in place (never copied), an S3
    object downloaded to ``dest``. A missing one is an ``InputError`` naming it."""
    if isinstance(store, LocalStore):
        path = store.root / key
        if not path.is_file():
            raise InputError(f"{path}: file not found")
        return path
    dest.parent.mkdir(parents=True, exist_ok=True)
    return store.download(key, dest)


def open_store(uri: str, client: Any | None) -> tuple[ObjectStore, str]:
    """The store and the key prefix to list for ``uri`` (S3 URI or local path)."""
    if uri.startswith("s3://"):
        if client is None:
            raise InputError(f"{uri}: an S3 URI needs an S3 client")
        bucket, prefix = parse_s3_uri(uri)
        return S3Store(client, bucket), prefix
    path = Path(uri)
    if path.is_file():  # one data file: its directory is the store, its name the prefix
        return LocalStore(path.parent), path.name
    return LocalStore(path), ""
