"""``python -m finops`` is the ``finops`` command."""

from finops.cli import main

main()
