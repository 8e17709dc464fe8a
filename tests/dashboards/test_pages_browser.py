"""The dashboards in a real browser: ``finops serve`` in a subprocess, headless Chromium.

Chromium loads each page with its ``?token=``, runs plotly.js (served by the API from the
installed plotly package; no network is needed), and dumps the DOM after scripts ran: a
rendered plotly figure leaves ``class="plot-container`` and ``main-svg`` elements behind.
A screenshot of each page is written next to the test's temp dir for a human to look at.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dashboards import pages
from finops.settings import Settings
from tests.support import ServeProcess

pytestmark = pytest.mark.integration
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1400,1000", "--virtual-time-budget=5000"]



@pytest.fixture(scope="module")
def server_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("serve") / "serve.log"


@pytest.fixture(scope="module")
def server(settings: Settings, server_log: Path) -> Iterator[str]:
    """``finops serve`` as a user would start it, on a free port; yields its base URL."""
    env = {"FINOPS_DB": str(settings.db), "FINOPS_CONFIG": str(settings.config)}
    with ServeProcess(env, server_log) as served:
        yield served.base


def chromium(url: str, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM, "chromium is missing: apt-get install chromium (scripts/apt-packages.txt)"
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *extra, url],
                          capture_output=True, text=True, timeout=120, check=False)


def render(url: str, tmp_path: Path, name: str) -> tuple[str, Path]:
    """One Chromium run: the DOM after scripts ran (stdout) and a screenshot."""
    png = tmp_path / f"{name}.png"
    run = chromium(url, tmp_path / f"profile-{name}", "--dump-dom", f"--screenshot={png}")
    assert run.returncode == 0 and png.exists(), run.stderr[-2000:]
    keep = os.environ.get("SCREENSHOT_DIR")  # a folder to keep screenshots for review
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(png, Path(keep) / png.name)
    return run.stdout, png


@pytest.mark.parametrize(("name", "path", "role", "figures"), [
    ("finance", "/dashboards/finance", "finance", 6),
    ("team", "/dashboards/teams/payments", "payments", 4),
    ("unowned", "/dashboards/unowned", "platform", 3),
])
def test_page_renders_plotly_figures(server: str, token: dict[str, str], tmp_path: Path,
                                     name: str, path: str, role: str, figures: int) -> None:
    dom, png = render(f"{server}{path}?token={token[role]}", tmp_path, name)
    assert dom.count('class="plot-container') == figures
    assert dom.count('class="main-svg"') >= figures
    assert "data through 2026-10-14" in dom
    assert png.stat().st_size > 20_000  # a blank page compresses to a few KB


def test_team_token_cannot_open_finance_page(server: str, token: dict[str, str],
                                             tmp_path: Path) -> None:
    dom, _ = render(f"{server}/dashboards/finance?token={token['payments']}", tmp_path, "denied")
    assert "plot-container" not in dom and '"status":403' in dom


def test_access_log_redacts_tokens(server: str, server_log: Path, token: dict[str, str]) -> None:
    assert httpx.get(f"{server}/dashboards/unowned?token={token['finance']}",
                     timeout=30).status_code == 200
    deadline = time.monotonic() + 10  # the access line may reach the file a moment later
    while "/dashboards/unowned?token=" not in server_log.read_text() \
            and time.monotonic() < deadline:
        time.sleep(0.2)
    text = server_log.read_text()
    assert "/dashboards/unowned?token=***" in text
    assert not any(value in text for value in token.values())


def page_requests(netlog: Path, site: str) -> list[str]:
    """URLs the page itself asked for: requests made in the page's site's network partition
    (the browser's own background calls, e.g. its update checks, belong to none)."""
    log = json.loads(netlog.read_text())
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    starts = [event.get("params", {}) for event in log["events"]
              if event["type"] == start_job]
    return [params["url"] for params in starts
            if params.get("network_isolation_key", "").startswith(site)]


@pytest.mark.parametrize(("name", "path", "role"), [
    ("finance", "/dashboards/finance", "finance"),
    ("team", "/dashboards/teams/payments", "payments"),
    ("unowned", "/dashboards/unowned", "platform"),
])
def test_pages_send_nothing_off_the_machine(server: str, token: dict[str, str], tmp_path: Path,
                                            name: str, path: str, role: str) -> None:
    netlog = tmp_path / f"{name}.netlog.json"
    run = chromium(f"{server}{path}?token={token[role]}", tmp_path / f"profile-net-{name}",
                   f"--log-net-log={netlog}", "--dump-dom")
    assert run.returncode == 0, run.stderr[-2000:]
    requested = page_requests(netlog, "http://127.0.0.1")
    assert f"{server}{pages.PLOTLY_JS_PATH}" in requested
    assert [url for url in requested if not url.startswith(f"{server}/")] == []
    titles = set(re.findall(r'class="modebar-btn[^"]*"[^>]*data-title="([^"]*)"', run.stdout))
    assert "Download plot as a PNG" in titles  # the mode bar is there...
    assert not {t for t in titles if "Share" in t or "Plotly" in t or "Cloud" in t}  # ...without
    assert "plotly.com" not in run.stdout and "modebar-btn--logo" not in run.stdout
