"""The scale harness: ``python -m benchmarks run --size S|M|L|XL``."""
