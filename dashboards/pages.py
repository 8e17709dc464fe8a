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

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0;
       background: #f6f8fa; color: #1f2328; }
header { background: #24292f; color: #fff; padding: 12px 24px; display: flex;
         align-items: baseline; gap: 24px; }
header h1 { font-size: 20px; margin: 0; }
header a { color: #c9d1d9; text-decoration: none; }
header .currency, header .through { margin-left: auto; color: #8b949e; font-size: 13px; }
header .currency + .through { margin-left: 0; }
header .signout button { background: none; border: 1px solid #57606a; border-radius: 6px;
                         color: #c9d1d9; font-size: 13px; padding: 2px 10px; cursor: pointer; }
main { padding: 16px 24px; display: grid; grid-template-columns: repeat(2, minmax(0, 1fr));
       gap: 16px; }
.card { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; padding: 8px; }
.wide { grid-column: 1 / -1; }
.kpis { display: flex; gap: 16px; grid-column: 1 / -1; }
.kpi { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; padding: 12px 16px;
       flex: 1; }
.kpi .label { font-size: 12px; color: #57606a; text-transform: uppercase; }
.kpi .value { font-size: 26px; font-weight: 600; margin-top: 4px; }
.empty { color: #57606a; padding: 24px; }
"""


def link(path: str, **params: str) -> str:
    """``path`` with the non-empty query parameters."""
    query = {k: v for k, v in params.items() if v}
    return f"{path}?{urlencode(query)}" if query else path


@cache
def theme_script() -> str:
    """The script that defines the theme once for every figure of a page (a static file)."""
    template = pio.templates[THEME].to_plotly_json()
    return f"window.FINOPS_TEMPLATE = {pio.json.to_json_plotly(template)};\n"


def figure_div(fig: Figure, div_id: str, wide: bool = False) -> str:
    """A figure's div and the script that draws it with the theme (``theme_script``)."""
    name = json.dumps(div_id)
    data, layout = pio.json.to_json_plotly(fig["data"]), pio.json.to_json_plotly(fig["layout"])
    html = (f'<div id="{escape(div_id)}" class="plotly-graph-div" '
            'style="height:100%; width:100%;"></div>'
            f"<script>if (document.getElementById({name})) {{Plotly.newPlot({name}, {data}, "
            f"Object.assign({{template: window.FINOPS_TEMPLATE}}, {layout}), "
            f"{json.dumps(PLOT_CONFIG)})}};</script>")
    return f'<section class="card{" wide" if wide else ""}">{html}</section>'


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
         fmt: MoneyFormat | None = None) -> str:
    """The whole page; ``scripts`` are the URLs of plotly.js and of ``theme_script``;
    ``fmt`` names the currency of its amounts in the header."""
    shown = f"data through {through.isoformat()}" if through else "no data yet"
    tags = "".join(f'<script src="{escape(src)}"></script>' for src in scripts)
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{escape(heading)} · finops</title>"
        f"<style>{STYLE}</style>{tags}</head><body>"
        f"<header><h1>{escape(heading)}</h1>{nav(links)}"
        f"{currency_note(fmt) if fmt else ''}"
        f'<span class="through">{escape(shown)}</span>{signout_form()}</header>'
        f"<main>{''.join(body)}</main></body></html>"
    )


def team_links(teams: Sequence[str]) -> list[tuple[str, str]]:
    return [(team, link(f"/dashboards/teams/{quote(team, safe='')}")) for team in teams]


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} %"
