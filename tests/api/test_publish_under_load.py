"""Snapshot swaps fail nothing: a real ``finops serve`` under 20 concurrent keep-alive clients
while another process republishes changed data every second.

Every answer must be a 200 (no 500, no dropped connection); each client sees the data move
forward only; the answers show the new data after each publish; and at the end the server
holds exactly one snapshot file open (replaced generations were closed).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.support import ServeProcess, warehouse_env
from tests.support.api_warehouse import TOKENS, build, expected

pytestmark = [pytest.mark.integration, pytest.mark.slow]
CLIENTS = 20
DURATION_S = 15.0
PUBLISH_EVERY_S = 1.0
ROUTES = ["/api/coverage", "/api/teams", "/api/allocation?aggregate=team&step=window",
          "/api/teams/search", "/api/unowned", "/api/budgets", "/api/alerts",
          "/dashboards/finance", "/readyz"]
LOOP = Path(__file__).resolve().parent / "republish_loop.py"


@dataclass
class Observed:
    statuses: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    markers: list[list[int]] = field(default_factory=list)  # per client, in request order


def marker_of(total: float, base: float) -> int:
    """The publish (marker dollars) an /api/coverage answer reflects."""
    return round(total - base)


def client_loop(base_url: str, number: int, stop: threading.Event, seen: Observed,
                base: float) -> None:
    """Client 0 asks /api/coverage only (it watches the data move); the others go round the
    routes, each starting at another one."""
    markers: list[int] = []
    routes = ROUTES[:1] if number == 0 else ROUTES[number:] + ROUTES[:number]
    role = ("finance", "platform")[number % 2]
    headers = {"Authorization": f"Bearer {TOKENS[role][0]}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:
        turn = 0
        while not stop.is_set():
            route = routes[turn % len(routes)]
            turn += 1
            try:
                response = client.get(route)
            except httpx.HTTPError as exc:
                seen.errors.append(f"{route}: {type(exc).__name__}: {exc}")
                continue
            seen.statuses[response.status_code] += 1
            if response.status_code != 200:
                seen.errors.append(f"{route}: {response.status_code} {response.text[:300]}")
            elif route == "/api/coverage":
                markers.append(marker_of(response.json()["total_effective_cost"], base))
    seen.markers.append(markers)


def snapshot_handles(pid: int, snapshot: Path) -> list[str]:
    """The server's open files that are (or were, before being replaced) the snapshot."""
    fds = Path(f"/proc/{pid}/fd")
    targets = []
    for fd in fds.iterdir():
        try:
            targets.append(os.readlink(fd))
        except OSError:  # closed meanwhile
            continue
    return [t for t in targets if t.startswith(str(snapshot))]


def test_publishing_every_second_fails_no_request(tmp_path: Path) -> None:
    settings = build(tmp_path)
    base = round(expected(), 2)  # the default window covers every fixture day
    env = warehouse_env(settings, FINOPS_READER__CHECK_INTERVAL_MS="200")
    seen, stop = Observed(), threading.Event()
    with ServeProcess(env, tmp_path / "serve.log") as server:
        assert server.process is not None
        threads = [threading.Thread(target=client_loop, args=(server.base, i, stop, seen, base))
                   for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        writer = subprocess.run([sys.executable, str(LOOP), str(settings.db), str(DURATION_S),
                                 str(PUBLISH_EVERY_S)], capture_output=True, text=True,
                                timeout=120, check=True)
        time.sleep(0.5)  # traffic goes on past the last publish
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        published = writer.stdout.count("published ")
        final = httpx.get(f"{server.base}/api/coverage", headers={
            "Authorization": f"Bearer {TOKENS['finance'][0]}"}, timeout=30).json()
        handles = snapshot_handles(server.process.pid, settings.snapshot_path)
        metrics = httpx.get(f"{server.base}/metrics", timeout=30).text

    answered = sum(seen.statuses.values())
    assert seen.errors == [], f"{len(seen.errors)} failures of {answered}: {seen.errors[:5]}"
    assert answered > 20 * len(ROUTES), seen.statuses  # the clients really ran
    assert published >= 10, writer.stdout
    for markers in seen.markers:  # a client never sees an older snapshot after a newer one
        assert markers == sorted(markers), markers
    observed = {m for markers in seen.markers for m in markers}
    assert len(observed) >= published // 2, (sorted(observed), published, seen.statuses)
    assert marker_of(final["total_effective_cost"], base) == published
    assert handles == [str(settings.snapshot_path)], handles  # one open, and not a replaced one
    (swaps,) = [int(line.split()[1]) for line in metrics.splitlines()
                if line.startswith("finops_snapshot_swaps_total ")]
    # one swap per publish the server noticed (two publishes within one check are one swap)
    assert published // 2 <= swaps <= published, (swaps, published)
    assert "finops_snapshot_generations_open 1" in metrics
