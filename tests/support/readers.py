"""A ``SnapshotReader`` on a published snapshot file, as the API makes one per request."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from finops.api.reader import SnapshotReader
from finops.api.snapshots import ReaderLimits, SnapshotManager


def open_reader(path: Path) -> Iterator[SnapshotReader]:
    """Yield a reader on ``path``'s current generation (a generator: a fixture's body)."""
    manager = SnapshotManager(path, ReaderLimits("256MB", 1), check_interval_s=3600)
    with manager.lease() as generation:
        yield SnapshotReader(generation)
    manager.close()
