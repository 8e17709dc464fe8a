"""No chart or page can send data off the machine: every figure's plotly config turns off
plotly's share button and logo link, and no page references anything but this server."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import plotly
import pytest
from fastapi.testclient import TestClient

from finops.api import assets

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
# Config options that send data, or the reader, to an outside site when on.
OFF_MACHINE = ("showSendToCloud", "showEditInChartStudio", "showLink", "displaylogo")
PAGES = [("/dashboards/finance", "finance", 5), ("/dashboards/teams/payments", "payments", 5),
         ("/dashboards/unowned", "platform", 2)]  # the figures drawn by plotly (tables: HTML)
URL_ATTRIBUTES = {"src", "href", "action", "formaction", "srcset", "poster", "data",
                  "background", "xlink:href", "ping", "manifest", "cite"}


def known_to_bundled_plotly(option: str) -> bool:
    """Whether the bundled plotly.js declares the config option (``name:{valType``)."""
    return f"{option}:{{valType" in PLOTLY_JS.read_text(errors="replace")


def figure_configs(html: str) -> list[dict[str, object]]:
    """The config object (last argument) of every ``Plotly.newPlot`` call on the page."""
    return [json.loads(found) for found in
            re.findall(r"Plotly\.newPlot\(.*?(\{[^{}]*\})\s*\)(?:\.then\([\w.]*\))?\s*\};", html,
                       flags=re.S)]


class Urls(HTMLParser):
    """Every URL a page's markup and styles reference."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_style = tag == "style"
        for name, value in attrs:
            if name in URL_ATTRIBUTES and value:
                self.urls += [part.strip().split(" ")[0] for part in value.split(",")] \
                    if name == "srcset" else [value]

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.urls += re.findall(r"url\(\s*['\"]?([^'\")]+)", data)
            self.urls += re.findall(r"@import\s+['\"]([^'\"]+)", data)


def is_local(url: str) -> bool:
    """A path on this server (no scheme, no host), or an in-page anchor."""
    return not re.match(r"^(?:[a-zA-Z][\w+.-]*:|//|\\\\)", url.strip())


@pytest.mark.integration
@pytest.mark.parametrize("option", OFF_MACHINE)
def test_every_figure_turns_off_what_plotly_knows(client: TestClient, token: dict[str, str],
                                                  option: str) -> None:
    configs = []
    for path, role, count in PAGES:
        html = client.get(path, headers={"Authorization": f"Bearer {token[role]}"}).text
        found = figure_configs(html)
        assert len(found) == count, path
        configs += found
    if option == "showSendToCloud" or option == "displaylogo":
        assert known_to_bundled_plotly(option)  # both exist and default to on
    if known_to_bundled_plotly(option):
        assert all(config.get(option) is False for config in configs), option
    assert 'name:"sendChartToCloud"' in PLOTLY_JS.read_text(errors="replace")  # its share button
    assert all("sendChartToCloud" in config["modeBarButtonsToRemove"]  # type: ignore[operator]
               for config in configs)


@pytest.mark.integration
@pytest.mark.parametrize(("path", "role", "count"), PAGES)
def test_pages_reference_nothing_off_the_machine(client: TestClient, token: dict[str, str],
                                                 path: str, role: str, count: int) -> None:
    html = client.get(path, headers={"Authorization": f"Bearer {token[role]}"}).text
    parser = Urls()
    parser.feed(html)
    assert set(assets.page_scripts()) <= set(parser.urls) and len(parser.urls) >= 3  # + nav
    assert [url for url in parser.urls if not is_local(url)] == []
    assert "://" not in html  # nor any absolute URL in scripts or figure data


def test_the_url_check_catches_outside_references() -> None:
    parser = Urls()
    parser.feed('<link href="https://cdn.example/x.css"><img src="//cdn.example/i.png">'
                '<style>body{background:url("http://x.example/b.png")}</style>'
                '<a href="/dashboards/finance">ok</a>')
    assert [u for u in parser.urls if not is_local(u)] == [
        "https://cdn.example/x.css", "//cdn.example/i.png", "http://x.example/b.png"]
