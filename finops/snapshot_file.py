"""The snapshot's file: the warehouse copied for readers, as a clone where the filesystem can.

``Warehouse.publish`` writes the snapshot to a temporary name and swaps it in with
``os.replace``. A whole-file copy costs the file's size in time and disk at every publish, and
the file grows with the history kept (1.6 GB at L's first month, 11.8 GB at a year). A clone
(``FICLONE``: XFS with reflink, btrfs, bcachefs) shares the file's extents instead: no time and
no space whatever the size, and the writer's later writes copy only the blocks they change.
"""

from __future__ import annotations

import fcntl
import logging
import shutil
import time
from pathlib import Path

log = logging.getLogger(__name__)

# ioctl(dst, FICLONE, src): dst shares src's extents (Linux 4.5+; fcntl.FICLONE from Python 3.12)
FICLONE = getattr(fcntl, "FICLONE", 0x40049409)


def clone_or_copy(src: Path, dst: Path) -> str:
    """Make ``dst`` a copy of ``src``; say how ("cloned (reflink)" or "copied 1,612.3 MB in
    2.1 s"). A clone shares the file's extents (XFS with reflink, btrfs, bcachefs): it takes
    no time and no space whatever the file's size, and the writer's later writes copy only the
    blocks they change. Elsewhere (ext4, tmpfs, overlayfs...) the bytes are copied."""
    began = time.monotonic()
    if _cloned(src, dst):
        made = "cloned (reflink)"
    else:
        shutil.copyfile(src, dst)
        made = (f"copied {dst.stat().st_size / 1e6:,.1f} MB in "
                f"{time.monotonic() - began:.1f} s")
    log.info("snapshot %s: %s", dst, made)
    return made


def _cloned(src: Path, dst: Path) -> bool:
    """Clone ``src`` into ``dst`` (created or truncated); False when the filesystem cannot:
    any error of the ioctl itself (EOPNOTSUPP, EXDEV, EINVAL, ENOTTY... differ by kernel and
    filesystem) means "copy instead"; an error opening either file is raised."""
    with open(src, "rb") as source, open(dst, "wb") as target:
        try:
            fcntl.ioctl(target.fileno(), FICLONE, source.fileno())
        except OSError as exc:
            log.debug("no clone of %s (%s): copying", src, exc.strerror or exc)
            return False
    return True
