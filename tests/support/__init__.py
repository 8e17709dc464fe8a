"""What every test area shares, and the one home of shared test helpers.

Ports and readiness (``net``), real HTTP stand-ins (``http``: Slack in ``slack``, the
Kubernetes API in ``kube_api``, a misbehaving Prometheus), a real Prometheus and its
promtool backfill (``prometheus``), ``finops serve`` as a process (``serve``), the CLI runner
(``cli``), headless Chromium (``browser``), the demo warehouse built once per session
(``demo``), hand-written data sets (``api_warehouse`` for the API and dashboards,
``budget_data``, ``k8s_scenario``, allocation row builders in ``rows``, loads in ``loads``,
bill deliveries in the providers' export layouts in ``bills``), peak memory of a process
(``rss``), the SQL bombs (``bombs``), how a publish made its snapshot (``snapshots``).

Import as ``from tests.support[.module] import …`` (benchmarks too); conftest.py files hold
fixtures only and build them from here. May import the application; the application never
imports it.
"""

from tests.support.api import assert_error
from tests.support.bombs import LIST_BOMB, STRING_BOMB, UNINTERRUPTIBLE
from tests.support.cli import exit_code, finops_command, run_cli, run_finops
from tests.support.net import free_port, wait_until_ready
from tests.support.rss import PeakRss
from tests.support.serve import ServeProcess, warehouse_env

__all__ = ["LIST_BOMB", "STRING_BOMB", "UNINTERRUPTIBLE", "PeakRss", "ServeProcess", "assert_error",
           "exit_code", "finops_command", "free_port", "run_cli", "run_finops", "wait_until_ready",
           "warehouse_env"]
