"""``finops ingest …``: one module per family of sources, as in ``ingestion/``.

``billing.py`` loads bills (FOCUS, Azure, GCP, AWS CUR); ``k8s.py`` loads cluster usage (a
live cluster, Prometheus history, recorded Parquet). Each command builds its clients from
settings and flags, hands them to a collector and stores what it returns through
``finops.pipeline.store``; no command writes to the warehouse itself.
"""
