"""A real Ray cluster on this machine: ``ray start --head --block`` on 127.0.0.1.

Its raylet starts real worker processes (not ``local_mode``); every port it opens is a free
loopback port (another Ray on the machine is left alone), its files go to a temp dir of its
own, and it is stopped by its process group (never ``ray stop``, which would stop every Ray
on the machine). Workers inherit ``env`` (the fake AWS credentials that reach moto).
It authenticates with a token of its own (Ray's token auth, ``RAY_AUTH_TOKEN``), not the
shared ``~/.ray/auth_token`` another Ray on the machine may rewrite: a driver connects with
``driver_env`` in its environment. The token is one per test process: Ray's client in the
test process may keep the first token it reads.

Ready means the head's node is registered ALIVE in its GCS (asked by a child process with
the token), not only that the GCS port answers: on a loaded machine the raylet registers tens
of seconds after the port opens, and a driver that connects before gives up after 60 s ("No
node info found").
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

from tests.support.net import free_port

ROOT = Path(__file__).resolve().parents[2]
TOKEN = secrets.token_hex(16)
STARTS = 3
STARTUP_TIMEOUT = "timed out during startup"
WAIT_FOR_NODE = """
import sys, time
from ray._raylet import GcsClient
from ray.core.generated.gcs_pb2 import GcsNodeInfo
address, deadline = sys.argv[1], time.monotonic() + float(sys.argv[2])
while time.monotonic() < deadline:
    try:
        nodes = GcsClient(address=address).get_all_node_info(timeout=10).values()
    except Exception:
        nodes = []
    if any(node.state == GcsNodeInfo.GcsNodeState.ALIVE for node in nodes):
        sys.exit(0)
    time.sleep(0.5)
sys.exit("no node alive")
"""
RAY = Path(sys.executable).with_name("ray")
PORT_OPTIONS = ("--ray-client-server-port", "--dashboard-agent-listen-port",
                "--dashboard-agent-grpc-port", "--runtime-env-agent-port",
                "--metrics-export-port", "--node-manager-port", "--object-manager-port")


class RayHead:
    def __init__(self, env: dict[str, str], *, cpus: int = 2, timeout_s: float = 240) -> None:
        self.cpus, self.timeout_s = cpus, timeout_s
        self.driver_env = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": TOKEN}
        self.env = {**env, **self.driver_env}
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        # short: Ray's unix socket paths must stay under 107 characters
        self.temp = Path(tempfile.mkdtemp(prefix="ray-", dir="/tmp"))
        self.log = self.temp / "head.log"
        self.process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        ports = [f"{option}={free_port()}" for option in PORT_OPTIONS]
        return [str(RAY), "start", "--head", "--block", "--node-ip-address=127.0.0.1",
                f"--port={self.port}", f"--num-cpus={self.cpus}", "--include-dashboard=false",
                "--disable-usage-stats", f"--temp-dir={self.temp}", *ports]

    def __enter__(self) -> RayHead:
        for attempt in range(1, STARTS + 1):
            try:
                self._start()
                return self
            except AssertionError:
                # `ray start` gives its raylet 30 s (hard-coded) to register: on a loaded
                # machine it may not, and only then is another start worth it.
                if attempt == STARTS or STARTUP_TIMEOUT not in self.log.read_text():
                    self.stop()
                    raise
                self.stop()
                self.temp.mkdir()
        raise AssertionError("unreachable")

    def _start(self) -> None:
        env = {**os.environ, **self.env, "PYTHONPATH": str(ROOT)}
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(self.command(), cwd=ROOT, env=env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        self._wait()

    def _wait(self) -> None:
        """Until the head's GCS answers on its port and lists its node ALIVE."""
        assert self.process is not None
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"ray start exited:\n{self.log.read_text()[-3000:]}")
            if _listening(self.port):
                return self._node_alive(deadline - time.monotonic())
            time.sleep(0.5)
        raise AssertionError(f"Ray head not up after {self.timeout_s:.0f}s:\n"
                             f"{self.log.read_text()[-3000:]}")

    def _node_alive(self, timeout_s: float) -> None:
        """Until the GCS lists the head's node ALIVE, asked by a process of its own (the
        driver's token in its environment, as a driver would have it)."""
        env = {**os.environ, **self.driver_env}
        done = subprocess.run([sys.executable, "-c", WAIT_FOR_NODE, self.address,
                               str(timeout_s)], env=env, capture_output=True, text=True,
                              timeout=timeout_s + 30, check=False)
        if done.returncode != 0:
            raise AssertionError(f"Ray head's node not alive after {timeout_s:.0f}s: "
                                 f"{done.stderr[-2000:]}\n{self.log.read_text()[-2000:]}")

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process is not None:
            _stop_group(self.process)
            self.process = None
        shutil.rmtree(self.temp, ignore_errors=True)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the head's process group (GCS, raylet, workers), SIGKILL what outlives it."""
    for sig, wait_s in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait_s)
        except subprocess.TimeoutExpired:
            continue
    try:
        os.killpg(process.pid, signal.SIGKILL)  # workers may outlive the head process
    except ProcessLookupError:
        pass
