"""Shared storage for partition inputs: a folder or ``s3://bucket/prefix`` every worker reads.

A runner that runs partitions in other processes or on other machines never pickles frames
to them: the caller writes each partition's inputs as Parquet files under
``<run>/day=YYYY-MM-DD/cluster=<name>/`` (the run-wide frames once, under ``<run>/shared/``)
and sends the worker only where they are (``Shipped``). A ``Staging`` is plain strings, so it
travels to a worker with the task; the worker builds its own filesystem from it, with S3
credentials from its own environment (the standard AWS chain), never from the caller.

``ship`` / ``unship`` turn a dataclass of frames (``PreparedDay`` and the dataclasses it
holds) into files and back: a frame field is a file, a nested dataclass a folder, anything
else goes into ``meta.json``.
"""

from __future__ import annotations

import dataclasses
import io
import json
import typing
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import polars as pl
import pyarrow.fs as pafs

T = TypeVar("T")
META = "meta.json"


@dataclass(frozen=True)
class Staging:
    """Where partition inputs are written: a path (local or a shared mount) or an ``s3://``
    URI; ``endpoint_url`` points S3 at another server (MinIO, moto)."""

    uri: str
    endpoint_url: str | None = None
    region: str | None = None

    def filesystem(self) -> tuple[pafs.FileSystem, str]:
        """The filesystem and the root path inside it."""
        if self.uri.startswith("s3://"):
            fs = pafs.S3FileSystem(endpoint_override=self.endpoint_url, region=self.region)
            return fs, self.uri.removeprefix("s3://").rstrip("/")
        return pafs.LocalFileSystem(), str(Path(self.uri).resolve())

    def under(self, *parts: str) -> Staging:
        return dataclasses.replace(self, uri="/".join([self.uri.rstrip("/"), *parts]))

    def remove(self) -> None:
        """Delete everything under this location (a run's inputs once it is over)."""
        fs, root = self.filesystem()
        if fs.get_file_info(root).type != pafs.FileType.NotFound:
            fs.delete_dir(root)


def partition_dir(day: date, cluster: str) -> str:
    """The hive-style folder of one (cluster, day) partition; a cluster name is quoted."""
    return f"day={day.isoformat()}/cluster={quote(cluster, safe='')}"


@dataclass(frozen=True)
class Shipped:
    """A partition's inputs on shared storage: what a worker receives instead of frames."""

    staging: Staging  # the run's folder
    path: str  # the partition's folder under it
    nbytes: int  # bytes written for this partition


def write_frame(staging: Staging, name: str, frame: pl.DataFrame) -> int:
    buffer = io.BytesIO()
    frame.write_parquet(buffer, compression="zstd")
    return _write(staging, name, buffer.getvalue())


def _write(staging: Staging, name: str, data: bytes) -> int:
    fs, root = staging.filesystem()
    path = f"{root}/{name}"
    if isinstance(fs, pafs.LocalFileSystem):  # object stores have no folders to make
        fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
    with fs.open_output_stream(path) as stream:
        stream.write(data)
    return len(data)


def read_frame(staging: Staging, name: str) -> pl.DataFrame:
    fs, root = staging.filesystem()
    with fs.open_input_file(f"{root}/{name}") as stream:
        return pl.read_parquet(io.BytesIO(stream.readall()))


def _write_text(staging: Staging, name: str, text: str) -> int:
    return _write(staging, name, text.encode())


def _read_text(staging: Staging, name: str) -> str:
    fs, root = staging.filesystem()
    with fs.open_input_file(f"{root}/{name}") as stream:
        return bytes(stream.readall()).decode()


@cache
def _hints(cls: Any) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def ship(obj: Any, staging: Staging, path: str, skip: frozenset[str] = frozenset()) -> int:
    """Write the dataclass ``obj`` under ``path``: frames as Parquet, nested dataclasses as
    folders, the rest as JSON. ``skip`` names dotted fields left out (run-wide frames shipped
    once). Returns the bytes written."""
    meta: dict[str, Any] = {}
    written = 0
    for field in dataclasses.fields(obj):
        value, name = getattr(obj, field.name), f"{path}/{field.name}"
        if field.name in skip:
            continue
        if isinstance(value, pl.DataFrame):
            written += write_frame(staging, f"{name}.parquet", value)
        elif dataclasses.is_dataclass(value):
            inner = frozenset(s.split(".", 1)[1] for s in skip if s.startswith(f"{field.name}."))
            written += ship(value, staging, name, inner)
        else:
            meta[field.name] = value
    return written + _write_text(staging, f"{path}/{META}", json.dumps(meta))


def unship(cls: type[T], staging: Staging, path: str, given: dict[str, Any] | None = None) -> T:
    """Read back what ``ship`` wrote as a ``cls``; ``given`` fills skipped fields (dotted)."""
    given = given or {}
    meta = json.loads(_read_text(staging, f"{path}/{META}"))
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        kind, name = _hints(cls)[field.name], f"{path}/{field.name}"  # type: ignore[arg-type]
        if field.name in given:
            values[field.name] = given[field.name]
        elif kind is pl.DataFrame:
            values[field.name] = read_frame(staging, f"{name}.parquet")
        elif dataclasses.is_dataclass(kind):
            inner = {k.split(".", 1)[1]: v for k, v in given.items()
                     if k.startswith(f"{field.name}.")}
            values[field.name] = unship(kind, staging, name, inner)  # type: ignore[arg-type]
        elif field.name in meta:
            values[field.name] = meta[field.name]
    return cls(**values)
