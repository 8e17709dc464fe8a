"""HTML pages that hold the figures: plain strings, no template engine, no CDN.

Scripts are loaded from the API itself (the server names their URLs: plotly.js from the file
bundled in the installed ``plotly`` package, and ``theme_script``), so the pages work on a
machine without internet. Every value that comes from data is escaped (in figure JSON too:
``<``, ``>`` and ``/`` as ``\\u`` escapes, so no text can close the script). Links never
carry a token: a person's browser holds a session cookie (see ``dashboards.signin``), so a
copied link is safe to paste anywhere.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from functools import cache
from html import escape
from urllib.parse import quote, urlencode

import plotly.io as pio

from dashboards import alt
from dashboards.figures import Figure
from dashboards.signin import signout_form
from models.currency import MoneyFormat, name

THEME = "plotly_white"  # the plotly template every figure is drawn with
# Nothing on a page may send data off the machine. The bundled plotly.js (4.x) shows a "Share
# chart" button by default (showSendToCloud: it posts the figure's data to plotlyServerURL, an
# outside service) and links its logo to plotly's site; both are off for every figure (the
# button is also removed by name). showLink and showEditInChartStudio, the other off-machine
# links, do not exist in the bundled plotly.js (plotly.py warns about them as unknown); the
# dashboards' tests fail if a plotly.js that knows them is bundled and they are not off here.
PLOT_CONFIG: dict[str, object] = {
    "showSendToCloud": False,
    "displaylogo": False,
    "modeBarButtonsToRemove": ["sendChartToCloud"],
    "responsive": True,
}

# Colours are CSS variables so dark mode (``prefers-color-scheme``) swaps them in one place;
# every text/background pair meets WCAG AA (4.5:1): muted text #57606a on #fff is 6.4:1,
# #9198a1 on #0d1117 is 6.2:1. At 700 px and below the grid is one column, the header and the
# controls wrap, and wide tables scroll inside their card.
STYLE = """
:root { color-scheme: light dark; --bg: #f6f8fa; --fg: #1f2328; --card: #ffffff;
        --line: #d0d7de; --muted: #57606a; --head: #24292f; --head-fg: #ffffff;
        --head-link: #d1d9e0; --link: #0969da; --chip: #ddf4ff; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #0d1117; --fg: #e6edf3; --card: #161b22; --line: #3d444d;
          --muted: #9198a1; --head: #010409; --head-fg: #f0f6fc; --head-link: #d1d9e0;
          --link: #4493f8; --chip: #121d2f; }
}
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0;
       background: var(--bg); color: var(--fg); font-size: 15px; }
a { color: var(--link); }
:focus-visible { outline: 3px solid #fd8c73; outline-offset: 2px; }
.skip { position: absolute; left: -9999px; }
.skip:focus { left: 8px; top: 8px; background: var(--card); padding: 8px; z-index: 10; }
header { background: var(--head); color: var(--head-fg); padding: 12px 24px; display: flex;
         flex-wrap: wrap; align-items: baseline; gap: 8px 24px; }
header h1 { font-size: 20px; margin: 0; }
header a { color: var(--head-link); }
header .currency, header .through { margin-left: auto; color: var(--head-link);
                                    font-size: 13px; }
header .currency + .through { margin-left: 0; }
header .signout button { background: none; border: 1px solid #8c959f; border-radius: 6px;
                         color: var(--head-link); font-size: 13px; padding: 2px 10px;
                         cursor: pointer; }
form.controls { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 10px;
                padding: 10px 24px; background: var(--card);
                border-bottom: 1px solid var(--line); font-size: 14px; }
form.controls label { color: var(--muted); }
form.controls select, form.controls input, form.controls button {
  font: inherit; padding: 4px 6px; border: 1px solid var(--line); border-radius: 6px;
  background: var(--card); color: var(--fg); min-height: 32px; }
form.controls button { background: #1f883d; color: #fff; border-color: #1f883d; }
.chip { background: var(--chip); border-radius: 12px; padding: 2px 10px; }
.chip a { text-decoration: none; margin-left: 4px; }
nav.crumbs ol { list-style: none; margin: 0; padding: 8px 24px 0; display: flex;
                flex-wrap: wrap; gap: 4px; font-size: 14px; }
nav.crumbs li + li::before { content: "›"; margin-right: 4px; color: var(--muted); }
main { padding: 16px 24px; display: grid; grid-template-columns: repeat(2, minmax(0, 1fr));
       gap: 16px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 6px;
        padding: 8px; min-width: 0; overflow-x: auto; }
.wide { grid-column: 1 / -1; }
.kpis { display: flex; flex-wrap: wrap; gap: 16px; grid-column: 1 / -1; }
.kpi { background: var(--card); border: 1px solid var(--line); border-radius: 6px;
       padding: 12px 16px; flex: 1 1 140px; }
.kpi .label { font-size: 12px; color: var(--muted); text-transform: uppercase; }
.kpi .value { font-size: 26px; font-weight: 600; margin-top: 4px; font-variant-numeric:
              tabular-nums; }
.empty { color: var(--muted); padding: 24px; }
.empty strong { display: block; color: var(--fg); margin-bottom: 4px; }
.downloads { font-size: 13px; margin: 4px 8px; color: var(--muted); }
details.alt summary { font-size: 13px; color: var(--muted); cursor: pointer; margin: 4px 8px; }
.table-scroll { overflow-x: auto; max-width: 100%; }
table.data { border-collapse: collapse; width: 100%; font-size: 13px; }
table.data caption { text-align: left; font-weight: 600; padding: 8px; }
table.data th, table.data td { border-bottom: 1px solid var(--line); padding: 4px 8px;
                               text-align: left; vertical-align: top; }
table.data td { white-space: nowrap; }
table.data td.wrap { white-space: normal; overflow-wrap: anywhere; min-width: 16ch; }
table.data .num { text-align: right; white-space: nowrap;
                  font-variant-numeric: tabular-nums; }
.error { grid-column: 1 / -1; }
@media (max-width: 700px) {
  header, form.controls { padding: 8px 12px; }
  main { grid-template-columns: minmax(0, 1fr); padding: 12px; gap: 12px; }
  header .currency, header .through { margin-left: 0; }
  .kpi .value { font-size: 20px; }
}
"""


def link(path: str, **params: str) -> str:
    """``path`` with the non-empty query parameters."""
    query = {k: v for k, v in params.items() if v}
    return f"{path}?{urlencode(query)}" if query else path


# Dark mode for figures: plotly draws in SVG with its template's colours, so the page's CSS
# cannot reach them; the theme script swaps them when the reader prefers a dark scheme.
DARK_JS = """window.FINOPS_DARK = window.matchMedia &&
  window.matchMedia('(prefers-color-scheme: dark)').matches;
window.FINOPS_LAYOUT = function (layout) {
  var out = Object.assign({template: window.FINOPS_TEMPLATE}, layout);
  if (window.innerWidth < 700) {  // a phone: the legend below the plot, a smaller title
    out.legend = Object.assign({}, out.legend, {orientation: 'h', y: -0.25});
    out.title = Object.assign({}, out.title, {font: {size: 14}});
    out.margin = Object.assign({}, out.margin, {l: 50, r: 10});
    var x = out.xaxis, r = x && x.range;  // daily ticks over more than a week: let plotly thin
    if (r && x.dtick === 86400000 && Date.parse(r[1]) - Date.parse(r[0]) > 8 * 86400000) {
      out.xaxis = Object.assign({}, x, {dtick: 2 * 86400000 *
        Math.ceil((Date.parse(r[1]) - Date.parse(r[0])) / 86400000 / 12)});
    }
  }
  if (!window.FINOPS_DARK) { return out; }
  var grid = {gridcolor: '#3d444d', zerolinecolor: '#3d444d', linecolor: '#3d444d'};
  out.paper_bgcolor = '#161b22'; out.plot_bgcolor = '#161b22';
  out.font = Object.assign({}, out.font, {color: '#e6edf3'});
  out.xaxis = Object.assign({}, out.xaxis, grid); out.yaxis = Object.assign({}, out.yaxis, grid);
  return out;
};
window.FINOPS_DRILL = function (gd) {
  gd.on('plotly_click', function (event) {
    var href = event.points.length ? event.points[0].customdata : null;
    if (typeof href === 'string' && href.charAt(0) === '/') { window.location.href = href; }
  });
};
"""


@cache
def theme_script() -> str:
    """The script that defines the theme once for every figure of a page (a static file):
    plotly's template, the dark-mode layout, the click-to-drill handler."""
    template = pio.templates[THEME].to_plotly_json()
    return f"window.FINOPS_TEMPLATE = {pio.json.to_json_plotly(template)};\n{DARK_JS}"


def with_format(url: str, fmt: str) -> str:
    """A data route's URL asking for ``fmt`` (csv, parquet)."""
    return f"{url}{'&' if '?' in url else '?'}format={fmt}"


def downloads(url: str) -> str:
    """The links to a chart's or table's data as files, from the route that serves it."""
    return (f'<p class="downloads">Data: <a href="{escape(with_format(url, "csv"))}" download>'
            f'CSV</a> · <a href="{escape(with_format(url, "parquet"))}" download>Parquet</a></p>')


def figure_div(fig: Figure, div_id: str, wide: bool = False, *,
               data_url: str | None = None) -> str:
    """A figure's card: the chart (drawn with the theme, clicks drill down where its points
    carry links), its numbers as a table for screen readers and keyboards, and with
    ``data_url`` its data as CSV and Parquet. A figure without points says so instead; a
    figure that is only a table is drawn as an HTML table."""
    links = downloads(data_url) if data_url else ""
    cls = f'card{" wide" if wide else ""}'
    if not alt.has_data(fig):
        return (f'<section class="{cls}" id="{escape(div_id)}-card"><p class="empty"><strong>'
                f"{escape(alt.title_text(fig))}</strong>No data for this window.</p></section>")
    if fig["data"][0].get("type") == "table":
        return f'<section class="{cls}" id="{escape(div_id)}">{alt.table_of(fig)}{links}</section>'
    name = json.dumps(div_id)
    data, layout = pio.json.to_json_plotly(fig["data"]), pio.json.to_json_plotly(fig["layout"])
    drill = ".then(window.FINOPS_DRILL)" if any(t.get("customdata") for t in fig["data"]) \
        else ""
    label = escape(alt.title_text(fig))
    html = (f'<div id="{escape(div_id)}" class="plotly-graph-div" role="img" '
            f'aria-label="{label}" style="width:100%;"></div>'
            f"<script>if (document.getElementById({name})) {{Plotly.newPlot({name}, {data}, "
            f"window.FINOPS_LAYOUT({layout}), {json.dumps(PLOT_CONFIG)}){drill}}};</script>")
    table = f'<details class="alt"><summary>Data table</summary>{alt.table_of(fig)}</details>'
    return f'<section class="{cls}">{html}{table}{links}</section>'


def empty_card(text: str, wide: bool = False) -> str:
    return f'<section class="card{" wide" if wide else ""}"><p class="empty">{escape(text)}</p>' \
           "</section>"


def kpis(tiles: Sequence[tuple[str, str]]) -> str:
    cells = "".join(
        f'<div class="kpi"><div class="label">{escape(label)}</div>'
        f'<div class="value">{escape(value)}</div></div>'
        for label, value in tiles
    )
    return f'<div class="kpis">{cells}</div>'


def nav(links: Sequence[tuple[str, str]]) -> str:
    return " ".join(f'<a href="{escape(href)}">{escape(text)}</a>' for text, href in links)


def currency_note(fmt: MoneyFormat) -> str:
    """The page header's statement of the currency of its amounts."""
    if not fmt.currency:
        return ""
    return (f'<span class="currency" data-currency="{escape(fmt.currency)}">amounts in '
            f"{escape(name(fmt.currency, fmt.locale))} ({escape(fmt.label)})</span>")


def page(heading: str, body: Sequence[str], links: Sequence[tuple[str, str]],
         through: date | None, scripts: Sequence[str] = (),
         fmt: MoneyFormat | None = None, *, controls: str = "", crumbs: str = "") -> str:
    """The whole page; ``scripts`` are the URLs of plotly.js and of ``theme_script``;
    ``fmt`` names the currency of its amounts in the header; ``controls`` and ``crumbs``
    (``dashboards.controls``) go between the header and the cards."""
    shown = f"data through {through.isoformat()}" if through else "no data yet"
    tags = "".join(f'<script src="{escape(src)}"></script>' for src in scripts)
    return (
        f"{HEAD}<title>{escape(heading)} · finops</title>"
        f"<style>{STYLE}</style>{tags}</head><body>"
        '<a class="skip" href="#content">Skip to the charts</a>'
        f'<header><h1>{escape(heading)}</h1><nav aria-label="Pages">{nav(links)}</nav>'
        f"{currency_note(fmt) if fmt else ''}"
        f'<span class="through">{escape(shown)}</span>{signout_form()}</header>'
        f'{controls}{crumbs}<main id="content">{"".join(body)}</main></body></html>'
    )


HEAD = ('<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light dark">')


def error_page(status: int, message: str) -> str:
    """An error as a page, for a person's browser (API clients get the JSON body)."""
    heading = {400: "That request is not valid", 403: "Not allowed", 404: "Not found",
               409: "Conflicting data", 422: "That request is not valid"}.get(
        status, "Something went wrong")
    return (f"{HEAD}<title>{status} {escape(heading)} · finops</title><style>{STYLE}</style>"
            f"</head><body><header><h1>{escape(heading)}</h1>"
            '<nav aria-label="Pages"><a href="/dashboards/">dashboards</a></nav></header>'
            f'<main id="content"><section class="card error" role="alert"><p>'
            f"<strong>{status}</strong> · {escape(message)}</p></section></main></body></html>")


def team_links(teams: Sequence[str]) -> list[tuple[str, str]]:
    return [(team, link(f"/dashboards/teams/{quote(team, safe='')}")) for team in teams]


def percent(value: float | None, *, signed: bool = False) -> str:
    """``12.3 %`` (``+12.3 %`` signed); never ``-0.0 %``: what rounds to zero is ``0.0 %``."""
    if value is None:
        return "n/a"
    if round(value, 1) == 0:
        return "0.0 %"
    return f"{value:+.1f} %" if signed else f"{value:.1f} %"
