"""Where a provider's list prices are wanted: the regions its nodes and its bill lines use."""

from __future__ import annotations

from models.loads import FrameReader


def regions_seen(loaded: FrameReader, node_scheme: str, bill_lines: str) -> list[str]:
    """Sorted regions of the nodes whose provider id is ``<node_scheme>://…`` and of the
    ``cost_line`` rows the SQL condition ``bill_lines`` (a constant of the caller) selects."""
    rows = loaded.frame(
        f"SELECT region_id FROM cost_line WHERE region_id IS NOT NULL AND ({bill_lines}) "
        "UNION SELECT region FROM k8s_node_hour WHERE provider_id LIKE $nodes "
        "AND region IS NOT NULL ORDER BY 1", {"nodes": f"{node_scheme}://%"}).rows()
    return [str(r[0]) for r in rows]
