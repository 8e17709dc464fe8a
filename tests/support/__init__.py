"""What every test area shares: ports and readiness, real servers, the CLI runner, peak
memory of a process, the SQL bombs.

Import as ``from tests.support import …`` (benchmarks too). One definition of each helper:
add here rather than in a conftest of one area.
"""

from tests.support.api import assert_error
from tests.support.bombs import LIST_BOMB, STRING_BOMB, UNINTERRUPTIBLE
from tests.support.cli import exit_code, finops_command, run_cli, run_finops
from tests.support.net import free_port, wait_until_ready
from tests.support.rss import PeakRss
from tests.support.serve import ServeProcess

__all__ = ["LIST_BOMB", "STRING_BOMB", "UNINTERRUPTIBLE", "PeakRss", "ServeProcess", "assert_error",
           "exit_code", "finops_command", "free_port", "run_cli", "run_finops", "wait_until_ready"]
