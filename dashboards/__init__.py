"""Dashboards: plotly figure builders (``figures``: a Polars frame in, a figure out) and the
HTML pages around them (``pages``, ``signin``: plain strings, escaped, no CDN).

Renders only: no I/O, no SQL. Never imports ``finops``; the API's dashboard routes
(``finops.api.routes.dashboards``) query the data and hand it in.
"""
