"""CLI commands of this area (being built; see the issue)."""

from __future__ import annotations
