"""Real ``<table>``s for the pages of actionable lists (unowned items, right-sizing, budgets,
anomalies, explain): a caption, column headers with ``scope``, money right-aligned, long ids
wrapped and selectable whole. Rows are strings already formatted; every cell is escaped here.
The style is this module's own ``<style>`` block (the page frame's STYLE is not touched)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

TABLE_STYLE = (
    "<style>"
    ".scroll{overflow-x:auto}"
    "table.list{border-collapse:collapse;width:100%;font-size:13px;min-width:520px}"
    "table.list caption{text-align:left;font-weight:600;padding:8px}"
    "table.list th,table.list td{border-bottom:1px solid #d0d7de;padding:4px 8px;"
    "text-align:left;vertical-align:top}"
    "table.list td.num,table.list th.num{text-align:right;white-space:nowrap;"
    "font-variant-numeric:tabular-nums}"
    "table.list code.id{word-break:break-all;user-select:all;font-size:12px}"
    "table.list .evidence{margin:0;padding-left:16px}"
    ".state{display:inline-block;border-radius:10px;padding:1px 8px;font-size:12px;"
    "font-weight:600}"
    ".state.over{background:#ffebe9;color:#82071e;border:1px solid #cf222e}"
    ".state.forecast-over{background:#fff8c5;color:#6f4e00;border:1px solid #9a6700}"
    ".state.ok{background:#dafbe1;color:#0a3622;border:1px solid #1a7f37}"
    "</style>"
)


@dataclass(frozen=True)
class Column:
    """A column: its header, and whether it is a number (right-aligned)."""

    header: str
    numeric: bool = False


def table(caption: str, columns: Sequence[Column], rows: Sequence[Sequence[str]],
          *, raw: frozenset[int] = frozenset(), table_id: str = "",
          headers_raw: bool = False) -> str:
    """The table; cells at the indexes in ``raw`` (and the headers with ``headers_raw``) are
    HTML this package built (escaped by it), every other cell is escaped text."""
    head = "".join(f'<th scope="col"{_num(c.numeric)}>'
                   f"{c.header if headers_raw else escape(c.header)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td{_num(col.numeric)}>{cell if i in raw else escape(cell)}</td>"
                         for i, (col, cell) in enumerate(zip(columns, row, strict=True)))
        + "</tr>" for row in rows)
    ident = f' id="{escape(table_id)}"' if table_id else ""
    return (f'{TABLE_STYLE}<div class="scroll"><table class="list"{ident}>'
            f"<caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table></div>")


def _num(numeric: bool) -> str:
    return ' class="num"' if numeric else ""


def card(html: str, wide: bool = True) -> str:
    return f'<section class="card{" wide" if wide else ""}">{html}</section>'
