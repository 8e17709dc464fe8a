"""Matching a bill's column names: case, punctuation and a BOM do not matter; each reader
lists the aliases a column has had across versions and dialects."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from models.errors import InputError


def norm(name: str) -> str:
    """Column name reduced to lower-case letters and digits: ``BilledCost``,
    ``billed_cost``, ``Billed Cost`` and ``\\ufeffBilledCost`` all become ``billedcost``."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def column_index(columns: Iterable[str]) -> dict[str, str]:
    """Normalised name -> the file's column name (first one wins)."""
    index: dict[str, str] = {}
    for column in columns:
        index.setdefault(norm(column), column)
    return index


def pick(index: dict[str, str], *aliases: str) -> str | None:
    """The file's column for the first alias present, or None."""
    for alias in aliases:
        found = index.get(norm(alias))
        if found is not None:
            return found
    return None


def require_columns(path: Path | str, missing: Sequence[str]) -> None:
    if missing:
        raise InputError(f"{path}: missing required column(s): {', '.join(missing)}")
