"""A seeded synthetic organisation: bills in the providers' own formats plus recorded usage.

``python -m finops.synthetic --size S --out finops/demo/data --seed 7`` writes the demo; the
benchmarks call :func:`generate` with larger sizes.
"""

from finops.synthetic.generate import generate
from finops.synthetic.spec import SIZES, SizeSpec, size

__all__ = ["SIZES", "SizeSpec", "generate", "size"]
