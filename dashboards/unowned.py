"""The actionable part of the unowned page: a filter form, a sortable table of every item (one
page of it) with full ids (wrapped, copyable), tags, first seen, the suggested owner with its
evidence and the fix, and the pages. Plain links and a GET form, so it works from the
keyboard and without scripts (the copy buttons are the only script: a convenience; the ids
are selectable whole anyway).

Rows come from ``finops.api.unowned_items`` (a ``Listing``); ``kept`` are the page's other
query parameters (window, controls), carried by every link and the form.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any, Protocol
from urllib.parse import urlencode

from dashboards.pages import downloads
from dashboards.tables import Column, card, table
from models.currency import MoneyFormat

PATH = "/dashboards/unowned"
SORTABLE = {"cost": "unowned", "first_seen": "first seen", "reason": "reason",
            "namespace": "place", "resource": "resource", "suggested": "suggested owner"}
COPY_SCRIPT = ("<script>document.addEventListener('click',function(e){var b=e.target;"
               "if(!b.matches||!b.matches('button.copy'))return;"
               "navigator.clipboard&&navigator.clipboard.writeText(b.dataset.copy).then("
               "function(){b.textContent='copied'})});</script>")
FORM_STYLE = ("<style>form.filters{display:flex;flex-wrap:wrap;gap:8px;align-items:end;"
              "font-size:13px}form.filters label{display:flex;flex-direction:column;gap:2px}"
              "form.filters input,form.filters select,form.filters button{font:inherit;"
              "padding:4px 6px}nav.pages{display:flex;gap:12px;align-items:center;"
              "padding:8px;font-size:13px}button.copy{font-size:11px;margin-left:4px}"
              "th a{color:inherit}table#unowned-items{min-width:960px}</style>")


class Listing(Protocol):
    """One page of items (``finops.api.unowned_items.Listing`` has this shape)."""

    @property
    def rows(self) -> list[dict[str, Any]]: ...
    @property
    def matching(self) -> int: ...
    @property
    def matching_cost(self) -> float: ...
    @property
    def page(self) -> int: ...
    @property
    def pages(self) -> int: ...
    @property
    def per_page(self) -> int: ...


def href(kept: Mapping[str, str], **params: Any) -> str:
    query = {**kept, **{k: str(v) for k, v in params.items() if v not in (None, "")}}
    return f"{PATH}?{urlencode(query)}" if query else PATH


def filter_form(kept: Mapping[str, str], state: Mapping[str, Any],
                reasons: Sequence[str]) -> str:
    hidden = "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">'
                     for k, v in kept.items())
    options = "".join(f'<option value="{escape(r)}"{" selected" if r == state["reason"] else ""}'
                      f">{escape(r)}</option>" for r in reasons)
    per_page = "".join(f'<option{" selected" if n == state["per_page"] else ""}>{n}</option>'
                       for n in (25, 50, 100, 500))
    return (f'<form class="filters" method="get" action="{PATH}" role="search">{hidden}'
            f'<label>reason<select name="reason"><option value="">every reason</option>'
            f"{options}</select></label>"
            f'<label>contains<input type="search" name="q" value="{escape(state["q"] or "")}" '
            'placeholder="id, namespace, tag, team"></label>'
            f'<label>rows per page<select name="per_page">{per_page}</select></label>'
            f'<input type="hidden" name="sort" value="{escape(state["sort"])}">'
            f'<input type="hidden" name="order" value="{escape(state["order"])}">'
            '<button type="submit">Apply</button></form>')


def _filters(state: Mapping[str, Any]) -> dict[str, Any]:
    return {"reason": state["reason"], "q": state["q"], "per_page": state["per_page"]}


def header_link(kept: Mapping[str, str], state: Mapping[str, Any], key: str) -> str:
    """A column header that sorts by ``key`` (again: the other way), with its state."""
    current = state["sort"] == key
    order = "asc" if current and state["order"] == "desc" else "desc"
    arrow = (" ▼" if state["order"] == "desc" else " ▲") if current else ""
    link = href(kept, **_filters(state), sort=key, order=order)
    return f'<a href="{escape(link)}">{escape(SORTABLE[key])}{arrow}</a>'


def _resource(row: Mapping[str, Any]) -> str:
    ident = row["resource_id"]
    if not ident:
        return "—"
    return (f'<code class="id">{escape(ident)}</code><button type="button" class="copy" '
            f'data-copy="{escape(ident)}" aria-label="copy the id">copy</button>')


def _place(row: Mapping[str, Any]) -> str:
    parts = [(row["provider"] or ""), f"account {row['sub_account_id']}"
             if row["sub_account_id"] else "", f"cluster {row['cluster']}" if row["cluster"]
             else "", f"namespace {row['namespace']}" if row["namespace"] else "",
             row["service_name"] or ""]
    return "<br>".join(f'<code class="id">{escape(p)}</code>' if p.startswith("account")
                       else escape(p) for p in parts if p)


def _owner(row: Mapping[str, Any]) -> str:
    if not row["suggested_owner"]:
        return "no evidence"
    evidence = "".join(f"<li>{with_code(e)}</li>" for e in row["evidence"])
    return (f"<strong>{escape(row['suggested_owner'])}</strong>"
            f'<ul class="evidence">{evidence}</ul>')


def _tags(row: Mapping[str, Any]) -> str:
    """Up to two tags shown, the rest behind a disclosure (the keyboard opens it too)."""
    tags = [f'<code class="id">{escape(k)}={escape(v)}</code>'
            for k, v in sorted(row["tags"].items())]
    if len(tags) <= 2:
        return "<br>".join(tags) or "none"
    return (f"<details><summary>{len(tags)} tags</summary>{'<br>'.join(tags)}</details>")


def with_code(text: str) -> str:
    """Escaped ``text`` with its `backticked` parts as ``<code>`` (the fixes quote config)."""
    parts = text.split("`")
    return "".join(f"<code>{escape(p)}</code>" if i % 2 else escape(p)
                   for i, p in enumerate(parts))


def items_table(rows: Sequence[Mapping[str, Any]], fmt: MoneyFormat, caption: str,
                sortable: Sequence[str]) -> str:
    """The table; ``sortable`` are the header cells (sort links) of the sortable columns."""
    cost, reason, place, resource, first, owner = sortable
    columns = [Column(cost, True), Column(reason), Column(place), Column(resource),
               Column("tags"), Column(first), Column(owner), Column("how to fix")]
    cells = [[escape(fmt(r["effective_cost"])), escape(r["reason"] or ""), _place(r),
              _resource(r), _tags(r), escape(r["first_seen"]), _owner(r), with_code(r["fix"])]
             for r in rows]
    return table(caption, columns, cells, raw=frozenset(range(8)), table_id="unowned-items",
                 headers_raw=True)


def pages_nav(kept: Mapping[str, str], state: Mapping[str, Any], page: int, pages: int) -> str:
    def to(n: int, text: str, rel: str) -> str:
        link = href(kept, **_filters(state), sort=state["sort"], order=state["order"], page=n)
        return f'<a href="{escape(link)}" rel="{rel}">{text}</a>'
    prev = to(page - 1, "← previous", "prev") if page > 1 else "<span>← previous</span>"
    after = to(page + 1, "next →", "next") if page < pages else "<span>next →</span>"
    return (f'<nav class="pages" aria-label="pages of the unowned items">{prev}'
            f"<span>page {page} of {pages}</span>{after}</nav>")


def section(listing: Listing, fmt: MoneyFormat, kept: Mapping[str, str],
            state: Mapping[str, Any], reasons: Sequence[str], total_items: int,
            data_url: str) -> str:
    """The whole card: form, table of the page's rows, pages, and every matching row as a
    file (``data_url``: ``/api/unowned/items`` with the same window, sort and filters)."""
    heads = [header_link(kept, state, k) for k in
             ("cost", "reason", "namespace", "resource", "first_seen", "suggested")]
    caption = (f"Unowned items: {listing.matching} of {total_items} match, "
               f"{fmt(listing.matching_cost)}; rows {(listing.page - 1) * listing.per_page + 1}"
               f"–{(listing.page - 1) * listing.per_page + len(listing.rows)}"
               if listing.rows else f"Unowned items: none of {total_items} match")
    return card(FORM_STYLE + filter_form(kept, state, reasons)
                + items_table(listing.rows, fmt, caption, heads)
                + pages_nav(kept, state, listing.page, listing.pages) + downloads(data_url)
                + COPY_SCRIPT)
