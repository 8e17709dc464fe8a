"""Deliveries, not files: which files of a bill belong together, and which delivery of a
billing period is the newest.

``find_deliveries(sources, suffixes, client)`` looks below every folder or ``s3://`` prefix
given and recognises (``ingestion.billing.manifests`` has the manifest formats):

- AWS Data Exports manifests (FOCUS or CUR 2.0 tables) and Azure export ``manifest.json``
  files: each manifest is one delivery; per (export, billing period) only the newest is kept,
  the others are superseded (said so, never read);
- shard sets, when the tree holds no manifest: files whose names differ only in a 12-digit
  number counted from 0 (how BigQuery writes an extract to ``billing-*.json``: the GCP
  billing export as files), one delivery per folder and pattern; a gap is an incomplete set;
- loose files: every other data file, and every file named on the command line, together
  form one delivery (files given together in one call are one delivery) with no export
  identity (nothing proves what they restate).

In a tree holding manifests, data files no manifest lists are skipped (a delivery still
being written, or one a newer delivery superseded) and named in the notes.

``stage(delivery, workdir)`` then makes the delivery's files local (S3 downloads; local
files in place) and checks it is complete: every listed file present, its size what the
manifest says; a missing, truncated or unreadable file fails before anything is written.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from ingestion.billing.manifests import (
    AZURE_MANIFEST,
    CUR2,
    Delivery,
    Part,
    aws_delivery,
    azure_delivery,
    iso_utc,
)
from ingestion.billing.s3 import LocalStore, ObjectRef, ObjectStore, local_copy, open_store
from models.errors import InputError
from models.loads import file_checksums

SHARD = re.compile(r"^(?P<head>(?:[^/]*/)*[^/]*?)(?<!\d)(?P<n>\d{12})(?!\d)(?P<tail>[^/]*)$")
Notify = Callable[[str], None]


@dataclass
class Found:
    """The deliveries found, and notes on what was skipped and why."""

    deliveries: list[Delivery] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def find_deliveries(sources: Sequence[str], suffixes: tuple[str, ...], label: str,
                    client: Any | None = None) -> Found:
    """The deliveries below every source (a file, a folder, ``s3://bucket/prefix``)."""
    found, loose = Found(), []
    for source in sources:
        if not source.startswith("s3://") and not Path(source).is_dir():
            loose.append(_local_part(Path(source)))
            continue
        store, prefix = open_store(source, client)
        deliveries, parts = _discover(store, prefix, suffixes, found.notes)
        if not deliveries and not parts:
            raise InputError(f"{source}: no {label} files ({', '.join(suffixes)}) "
                             "under this prefix")
        found.deliveries += deliveries
        loose += parts
    if loose:
        found.deliveries.append(loose_delivery(loose))
    return found


def _local_part(path: Path) -> Part:
    absolute = path.absolute()
    return Part(LocalStore(absolute.parent), absolute.name, str(absolute))


def loose_delivery(parts: Iterable[Part]) -> Delivery:
    """Files given together: one delivery with no identity (each file once, by URI)."""
    unique = list({p.uri: p for p in parts}.values())
    label = unique[0].uri if len(unique) == 1 else f"{len(unique)} files"
    return Delivery("files", None, iso_utc(datetime.now(UTC)), label, unique)


def _discover(store: ObjectStore, prefix: str, suffixes: tuple[str, ...],
              notes: list[str]) -> tuple[list[Delivery], list[Part]]:
    """Manifest deliveries (newest per export and period) or shard sets, and loose parts."""
    objects = store.list(prefix)
    data = [o for o in objects if _is_data(o.key, suffixes)]
    manifests = _manifest_deliveries(store, objects)
    if manifests:
        newest = _newest(manifests, notes)
        listed = {p.key for d in manifests for p in d.parts}
        unlisted = [o.key for o in data if o.key not in listed]
        if unlisted:
            notes.append(f"skipped {len(unlisted)} data file(s) no manifest lists "
                         f"(a delivery still being written?): {', '.join(unlisted[:3])}"
                         + (" …" if len(unlisted) > 3 else ""))
        return newest, []
    shards, rest = _shard_sets(store, data)
    return shards, [Part(store, o.key, store.uri(o.key)) for o in rest]


def _is_data(key: str, suffixes: tuple[str, ...]) -> bool:
    name = key.rsplit("/", 1)[-1].lower()
    return name.endswith(suffixes) and name != AZURE_MANIFEST and not name.endswith(
        "-manifest.json")


def _manifest_deliveries(store: ObjectStore, objects: list[ObjectRef]) -> list[Delivery]:
    found = []
    for obj in objects:
        match = CUR2.match(obj.key)
        if match:
            found.append(aws_delivery(store, obj, match, objects))
        elif obj.key.rsplit("/", 1)[-1].lower() == AZURE_MANIFEST:
            found.append(azure_delivery(store, obj, objects))
    return found


def _newest(deliveries: list[Delivery], notes: list[str]) -> list[Delivery]:
    """Per (kind, export, period) the newest delivery; the others are noted as superseded."""
    groups: dict[Any, list[Delivery]] = defaultdict(list)
    for delivery in deliveries:
        groups[delivery.group or id(delivery)].append(delivery)
    kept = []
    for members in groups.values():
        members.sort(key=lambda d: (d.version or "", d.label))
        kept.append(members[-1])
        notes += [f"superseded: {old.label} (newer delivery of {old.period}: "
                  f"{members[-1].label})" for old in members[:-1]]
    return sorted(kept, key=lambda d: (d.period, d.label))


def _shard_sets(store: ObjectStore,
                data: list[ObjectRef]) -> tuple[list[Delivery], list[ObjectRef]]:
    """Files numbered like a BigQuery extract (``-000000000000``), one delivery per set."""
    sets: dict[tuple[str, str], list[tuple[int, ObjectRef]]] = defaultdict(list)
    rest = []
    for obj in data:
        match = SHARD.match(obj.key)
        if match:
            sets[(match["head"], match["tail"])].append((int(match["n"]), obj))
        else:
            rest.append(obj)
    return [_shard_delivery(store, head, tail, shards)
            for (head, tail), shards in sorted(sets.items())], rest


def _shard_delivery(store: ObjectStore, head: str, tail: str,
                    shards: list[tuple[int, ObjectRef]]) -> Delivery:
    pattern = store.uri(f"{head}*{tail}")
    numbers = sorted(n for n, _ in shards)
    gaps = sorted(set(range(numbers[-1] + 1)) - set(numbers))
    if gaps:
        raise InputError(f"{pattern}: incomplete shard set: shard {gaps[0]:012d} is missing "
                         f"(found {len(numbers)} shard(s) up to {numbers[-1]:012d})")
    parts = [Part(store, obj.key, store.uri(obj.key)) for _, obj in sorted(shards)]
    version = iso_utc(max(obj.modified for _, obj in shards))
    return Delivery("shards", pattern, version, pattern, parts)


# -- staging: local, complete, checksummed ---------------------------------------------------
@dataclass(frozen=True)
class StagedFile:
    """A delivery's data file, local and checked: where to read it, its URI and record."""

    path: Path
    uri: str
    sha256: str
    bytes: int


@dataclass
class Opened:
    """A delivery ready to load: its files (local, complete, checksummed; none for a
    BigQuery read), the checksum of their bytes, and its cost-line batches, each with
    ``x_source_file`` = the URI of the file it came from."""

    files: list[StagedFile]
    checksum: str | None
    batches: Iterable[pl.DataFrame]


Open = Callable[[Delivery, Path], Opened]
ReadBatches = Callable[[Path], Iterable[pl.DataFrame]]


def file_opener(read: ReadBatches, say: Notify) -> Open:
    """Opens a delivery of files: staged into a work folder, then read with ``read``."""
    def open_delivery(delivery: Delivery, workdir: Path) -> Opened:
        files, checksum = stage(delivery, workdir, say)
        return Opened(files, checksum, _batches(files, read))

    return open_delivery


def _batches(files: list[StagedFile], read: ReadBatches) -> Iterator[pl.DataFrame]:
    for staged in files:
        for frame in read(staged.path):
            yield frame.with_columns(pl.lit(staged.uri).alias("x_source_file"))


def stage(delivery: Delivery, workdir: Path, say: Notify) -> tuple[list[StagedFile], str]:
    """Every file of ``delivery`` as a local, complete file, byte-identical duplicates
    dropped (said so), and the checksum of all their bytes. An incomplete delivery fails
    here, before anything is written."""
    local = [(_present(delivery, part, workdir), part) for part in delivery.parts]
    checksum, sums = file_checksums(path for path, _ in local)
    staged: dict[str, StagedFile] = {}
    for path, part in local:
        digest = sums[path]
        if digest in staged:
            say(f"skipping {part.uri}: same content as {staged[digest].uri}")
            continue
        staged[digest] = StagedFile(path, part.uri, digest, path.stat().st_size)
    return list(staged.values()), checksum


def _present(delivery: Delivery, part: Part, workdir: Path) -> Path:
    """The part as a local file; missing or of another size than listed: incomplete."""
    try:
        dest = workdir / part.uri.removeprefix("s3://").lstrip("/")
        path = local_copy(part.store, part.key, dest)
    except InputError:
        if delivery.manifest is None:
            raise
        raise InputError(f"incomplete delivery: {delivery.manifest} lists {part.uri}, "
                         "which is missing") from None
    size = path.stat().st_size
    if part.size is not None and size != part.size:
        raise InputError(f"incomplete delivery: {delivery.manifest} lists {part.uri} with "
                         f"{part.size} bytes, the file has {size}")
    return path
