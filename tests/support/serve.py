"""A real ``finops serve`` (uvicorn) in its own process, as a user starts it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from tests.support.cli import finops_command
from tests.support.net import free_port, wait_until_ready

if TYPE_CHECKING:
    from finops.settings import Settings


def warehouse_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment that points ``finops serve`` at ``settings``' warehouse and config."""
    return {"FINOPS_DB": str(settings.db), "FINOPS_CONFIG": str(settings.config), **extra}


class ServeProcess:
    """``with ServeProcess(env, log) as server: httpx.get(server.base + "/healthz")``.

    ``env`` is added to this process's environment (``FINOPS_DB``, ``FINOPS_CONFIG``, …);
    ``args`` go after ``finops serve``; ``cwd`` is the working directory of the server;
    ``port`` when the environment must name it beforehand (``FINOPS_API__PUBLIC_URL``).
    """

    def __init__(self, env: dict[str, str], log: Path, *, args: list[str] | None = None,
                 cwd: Path | None = None, ready_path: str = "/healthz",
                 port: int | None = None) -> None:
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        self._env = {**os.environ, **env}
        self._args = args or []
        self._cwd = cwd
        self._ready = ready_path
        self.process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        return finops_command(["serve", "--host", "127.0.0.1", "--port", str(self.port),
                               *self._args])

    def __enter__(self) -> ServeProcess:
        with self.log.open("w") as out:
            self.process = subprocess.Popen(self.command(), env=self._env, cwd=self._cwd,
                                            stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_until_ready(self.base + self._ready, self.process, self.log)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
