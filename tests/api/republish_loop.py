"""A writer that republishes the fixture warehouse with changed data every ``every_s`` seconds
for ``duration_s`` seconds, in its own process (as ``finops ingest`` runs beside the API).

``python tests/api/republish_loop.py DB DURATION_S EVERY_S``; prints ``published K`` after
each publish, K = 1, 2, ... being the marker dollars the publish added (``republish``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from tests.support.api_warehouse import republish


def main(db: Path, duration_s: float, every_s: float) -> None:
    started = time.monotonic()
    marker = 0
    while time.monotonic() - started < duration_s:
        marker += 1
        republish(db, marker)
        print(f"published {marker}", flush=True)  # noqa: T201
        next_at = started + marker * every_s
        time.sleep(max(0.0, next_at - time.monotonic()))


if __name__ == "__main__":
    main(Path(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]))
