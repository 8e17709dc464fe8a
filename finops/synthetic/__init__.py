"""A seeded synthetic organisation: bills in the providers' own formats plus recorded usage.

``python -m finops.synthetic --size S --out finops/demo/data --seed 7`` writes the demo; the
benchmarks call :func:`generate` with larger sizes. Writes files only (the formats the
collectors read), never the warehouse; may import ``models``; never the API or the pipeline.
"""

from finops.synthetic.generate import generate
from finops.synthetic.spec import SIZES, SizeSpec, size

__all__ = ["SIZES", "SizeSpec", "generate", "size"]
