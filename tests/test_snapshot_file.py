"""The snapshot's file: a clone where the filesystem can, a copy elsewhere; errors opening
either file are raised, never taken for a filesystem that cannot clone. The clone itself is
checked by hand on a loop-mounted XFS (benchmarks/README.md): no test mounts a filesystem."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from finops.snapshot_file import clone_or_copy
from tests.support.snapshots import tmpfs_dir


def test_a_filesystem_that_cannot_clone_gets_a_copy(caplog: pytest.LogCaptureFixture) -> None:
    with tmpfs_dir() as tmpfs:  # tmpfs has no reflink: the ioctl fails, the bytes are copied
        src, dst = tmpfs / "w.duckdb", tmpfs / "snapshot.duckdb"
        src.write_bytes(bytes(range(256)) * 12_000)
        dst.write_bytes(b"x" * 4_000_000)  # a longer leftover is replaced whole
        with caplog.at_level(logging.INFO, logger="finops.snapshot_file"):
            made = clone_or_copy(src, dst)
        assert re.fullmatch(r"copied 3\.1 MB in \d+\.\d s", made), made
        assert dst.read_bytes() == src.read_bytes()
        assert f"snapshot {dst}: {made}" in caplog.messages


def test_a_clone_across_filesystems_falls_back_to_a_copy(tmp_path: Path) -> None:
    with tmpfs_dir() as tmpfs:  # EXDEV, whatever tmp_path's filesystem
        src = tmpfs / "w.duckdb"
        src.write_bytes(b"rows" * 1000)
        assert clone_or_copy(src, tmp_path / "s.duckdb").startswith("copied 0.0 MB in ")
    assert (tmp_path / "s.duckdb").read_bytes() == b"rows" * 1000


def test_an_error_opening_either_file_is_not_taken_for_a_missing_clone(tmp_path: Path) -> None:
    src = tmp_path / "w.duckdb"
    with pytest.raises(FileNotFoundError):
        clone_or_copy(src, tmp_path / "s.duckdb")
    assert not (tmp_path / "s.duckdb").exists()
    src.write_bytes(b"rows")
    with pytest.raises(FileNotFoundError):
        clone_or_copy(src, tmp_path / "gone" / "s.duckdb")
    (tmp_path / "dir").mkdir()
    with pytest.raises(IsADirectoryError):
        clone_or_copy(src, tmp_path / "dir")
