"""finops: cost attribution and FinOps analytics over Kubernetes usage and cloud bills.

The application, floor by floor (docs/architecture.md): ``warehouse`` (the one write path)
and ``settings`` at the bottom; ``allocation`` (the pure engine), ``reports``, the budget and
alert modules and ``sqlworker`` above them; ``pipeline`` (orchestration) and ``api`` (reads
only) above those; ``cli`` at the top. It stands on ``models`` and ``ingestion``, which never
import it; nothing here imports ``tests``.
"""

import os

# Polars allocates through its bundled jemalloc, which by default returns freed pages to the
# OS almost at once. The allocation engine builds and drops ~1 GB of frames per day of
# pod-hours, so those pages came straight back as page faults: a third of its CPU time was
# kernel time. Keeping freed pages for 10 s cut a day's engine CPU by ~25% for ~250 MB more
# peak RSS (benchmarks/README.md). Set before Polars loads; a value already set wins.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:10000,muzzy_decay_ms:10000")
