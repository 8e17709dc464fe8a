"""finops: cost attribution and FinOps analytics over Kubernetes usage and cloud bills.

The application, floor by floor (docs/architecture.md): ``warehouse`` (the one write path)
and ``settings`` at the bottom; ``allocation`` (the pure engine), ``reports``, the budget and
alert modules and ``sqlworker`` above them; ``pipeline`` (orchestration) and ``api`` (reads
only) above those; ``cli`` at the top. It stands on ``models`` and ``ingestion``, which never
import it; nothing here imports ``tests``.
"""

import sys

from finops.runtime import configure, is_finops, starting

# Before Polars loads (it reads these once, when imported): ``finops.runtime``.
configure(sys.argv[1:] if is_finops(sys.argv[0]) else [])
if is_finops(sys.argv[0]):
    starting()
