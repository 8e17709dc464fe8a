"""How a publish made its snapshot (``finops.snapshot_file.clone_or_copy``), as tests check it."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# What clone_or_copy says: either, since a test's tmp_path may be on XFS or btrfs elsewhere
SNAPSHOT_MADE = r"cloned \(reflink\)|copied [\d,]+\.\d MB in \d+\.\d s"


@contextmanager
def tmpfs_dir() -> Iterator[Path]:
    """A directory on tmpfs (/dev/shm, on every Linux CI runner): a filesystem that never
    clones, so a snapshot there is always copied."""
    with tempfile.TemporaryDirectory(dir="/dev/shm", prefix="finops-test-") as name:
        yield Path(name)
