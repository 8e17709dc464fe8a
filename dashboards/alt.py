"""A figure as an HTML table: the text alternative of every chart, and how tables are drawn.

A screen reader cannot read a plotly chart, and a person on a phone cannot read a wide plotly
table; so every chart carries its numbers as a real ``<table>`` (caption, column headers, the
drill-down links as ordinary links, reachable by keyboard), and a figure that is only a table
is drawn as that table. Numbers are right-aligned; text is escaped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape
from typing import Any

from dashboards.figures import Figure

_TAGS = re.compile(r"<[^>]+>")


def title_text(fig: Figure) -> str:
    """The figure's title as plain text (its ``<br><sup>`` subtitle on the same line)."""
    text = str((fig["layout"].get("title") or {}).get("text", ""))
    return " ".join(_TAGS.sub(" ", text.replace("<br>", " · ")).split()).replace(" · ·", " ·")


def has_data(fig: Figure) -> bool:
    """Whether any trace has a point to draw (an indicator or a table with rows counts)."""
    for trace in fig["data"]:
        kind = trace.get("type", "scatter")
        if (kind == "indicator" and trace.get("value") is not None) or \
                (kind == "table" and any(trace["cells"]["values"])):
            return True
        if kind != "table" and len(trace.get("x") or []) and len(trace.get("y") or []):
            return True
    return False


def number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    return "" if value is None else str(value)


def cell(value: Any, href: str | None = None, numeric: bool = False) -> str:
    text = escape(number(value))
    inner = f'<a href="{escape(href)}">{text}</a>' if href else text
    return f'<td class="num">{inner}</td>' if numeric else f"<td>{inner}</td>"


def html_table(caption: str, header: Sequence[str], rows: Sequence[Sequence[str]],
               numeric: Sequence[bool]) -> str:
    """A scrollable ``<table>``: ``rows`` are already rendered ``<td>`` cells."""
    heads = "".join(f'<th scope="col"{" class=num" if n else ""}>{escape(h)}</th>'
                    for h, n in zip(header, numeric, strict=False))
    body = "".join(f"<tr>{''.join(r)}</tr>" for r in rows)
    return (f'<div class="table-scroll" tabindex="0" role="region" aria-label="{escape(caption)}">'
            f'<table class="data"><caption>{escape(caption)}</caption>'
            f"<thead><tr>{heads}</tr></thead><tbody>{body}</tbody></table></div>")


def table_of(fig: Figure) -> str:
    """The figure's data as a table: a table trace as it is; otherwise one row per category
    (x of vertical traces, y of horizontal ones) and one column per trace."""
    caption = title_text(fig)
    traces = fig["data"]
    if traces and traces[0].get("type") == "table":
        return _table_trace(traces[0], caption)
    if traces and traces[0].get("type") == "indicator":
        return html_table(caption, ["measure", "value"],
                          [[cell(caption), cell(traces[0].get("value"), numeric=True)]],
                          [False, True])
    return _series_table(traces, caption)


def _table_trace(trace: dict[str, Any], caption: str) -> str:
    header = [str(h) for h in trace["header"]["values"]]
    columns = trace["cells"]["values"]
    align = trace["cells"].get("align")
    numeric = [isinstance(align, list) and i < len(align) and align[i] == "right"
               for i in range(len(header))]
    rows = [[cell(col[i], numeric=numeric[j]) for j, col in enumerate(columns)]
            for i in range(len(columns[0]) if columns else 0)]
    return html_table(caption, header, rows, numeric)


def _series_table(traces: list[dict[str, Any]], caption: str) -> str:
    categories: dict[Any, dict[int, tuple[Any, str | None]]] = {}
    for t, trace in enumerate(traces):
        across, values = ((trace.get("y") or [], trace.get("x") or [])
                          if trace.get("orientation") == "h"
                          else (trace.get("x") or [], trace.get("y") or []))
        links = trace.get("customdata") or [None] * len(across)
        for category, value, href in zip(across, values, links, strict=False):
            categories.setdefault(category, {})[t] = (value, href)
    names = [str(trace.get("name") or "value") for trace in traces]
    rows = [[cell(category)] + [cell(*found.get(t, (None, None)), numeric=True)
                                 for t in range(len(traces))]
            for category, found in categories.items()]
    return html_table(caption, ["", *names], rows, [False] + [True] * len(names))
