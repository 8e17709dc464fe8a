"""The bundled demo organisation (``data/``): bills, recorded usage, its ``finops.yaml`` and
the demo tokens; and its Backstage catalog (``catalog/``). It ships inside the package, so
``finops demo`` works from an installed wheel, not only from a checkout. Its config (and
tokens) is used only by ``finops demo`` and the server it starts: nothing else ever falls
back to it. Data and paths only: imports
nothing of this project.
"""

from __future__ import annotations

from pathlib import Path

DEMO_DIR = Path(__file__).resolve().parent / "data"
DEMO_CONFIG = DEMO_DIR / "finops.yaml"
DEMO_CATALOG = DEMO_DIR.parent / "catalog"  # hand-written, beside the generated data
