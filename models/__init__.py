"""Declarations every layer shares, and nothing that runs a service: the warehouse tables'
Polars schemas and the registry of the hourly Kubernetes tables (``schemas``), what a load is
(``loads``: ``Replace``, ``IngestRun``, ``Load``), the error hierarchy (``errors``), the
``finops.yaml`` model (``config``) and the API payloads (``api``).

The floor of the house: imports only libraries, never ``finops``, ``ingestion`` or
``dashboards``, so collectors and the service can both stand on it.
"""
