"""A dashboard request's view (``dashboards.controls.View``) and the window it resolves to.

The page routes take ``PageViewDep`` instead of ``WindowDep``: the same ``start``/``end``
parameters, plus a preset (anchored on the last day with data), granularity, group-by,
filters and cost metric, checked here once (a bad value is the usual 400). ``api_url`` writes
the data route behind a chart with the same view, so its CSV is exactly what the chart shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Query, Request

from dashboards import controls
from dashboards.controls import View
from finops.api import queries
from finops.api.deps import PrincipalDep, ReaderDep
from finops.api.routes.allocation import check_scope
from models.api import DAYS_ACCEPTED, Day, Window


@dataclass(frozen=True)
class PageView:
    view: View
    window: Window
    filters: dict[str, list[str]]  # the view's filters, parsed (``queries.parse_filters``)

    def group(self, default: str) -> str:
        return self.view.grouped_by(default)

    def api_url(self, path: str, aggregate: str, step: str, *extra: str) -> str:
        """``path`` (a data route) over this window with the view's filters and ``extra``
        filter terms (``team:"payments"``)."""
        pairs = [("start", self.window.start.isoformat()), ("end", self.window.end.isoformat())]
        if aggregate:
            pairs += [("aggregate", aggregate), ("step", step)]
        pairs += [("filter", f) for f in (*self.view.filters, *extra)]
        return f"{path}?{urlencode(pairs)}"


def _page_view(
    request: Request, reader: ReaderDep, principal: PrincipalDep,
    start: Annotated[Day | None, Query(description=f"First day ({DAYS_ACCEPTED}).")] = None,
    end: Annotated[Day | None, Query(description=f"Last day ({DAYS_ACCEPTED}).")] = None,
) -> PageView:
    query = request.query_params
    group = query.get("group", "")
    labels = [group] if group.startswith(queries.LABEL) and queries.is_dimension(group) else []
    days = {"start": start.isoformat() if start else "", "end": end.isoformat() if end else ""}
    view = controls.parse({**query, **days}, query.getlist("filter"), labels)
    filters = queries.parse_filters(list(view.filters))
    check_scope(principal, filters)
    start, end = controls.requested_days(view, reader.data_through())
    return PageView(view, reader.window(start, end), filters)


PageViewDep = Annotated[PageView, Depends(_page_view)]
