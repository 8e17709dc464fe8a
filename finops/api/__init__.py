"""The HTTP API: ``create_app(settings)`` builds the FastAPI application.

Owns identities (``auth`` tokens, ``sessions``, ``sso``, ``identity``), the per-request
``SnapshotReader`` on one published generation (``reader``, ``snapshots``), the named
queries (``queries``), limits, metrics, the error shape, and ``routes/`` (one router per
resource). It only reads: never imports ``finops.cli``, ``finops.pipeline`` or ``ingestion``;
user SQL goes through ``finops.sandbox``, HTML through ``dashboards``.
"""

from __future__ import annotations

from finops.api.app import create_app

__all__ = ["create_app"]
