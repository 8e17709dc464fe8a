"""The scale harness: ``python -m benchmarks run --size S|M|L|XL`` (``benchmarks/README.md``).

Each stage runs in its own process against a DuckDB floor doing the same raw work. Uses the
application as a user would (CLI, pipeline, API) and ``tests.support`` for real servers
(Prometheus); nothing in the application imports it (``tests/benchmarks`` tests the harness).
"""
