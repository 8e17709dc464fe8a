"""The peak resident memory of a running process, sampled in the background."""

from __future__ import annotations

import threading
from types import TracebackType

import psutil


class PeakRss:
    """``with PeakRss(pid) as peak: …`` then ``peak.bytes``: the highest RSS seen, sampled
    every ``every_s`` (a spike shorter than that can be missed; the kernel's own high-water
    mark, ``VmHWM``, covers that for a process whose whole life is the test)."""

    def __init__(self, pid: int, every_s: float = 0.05) -> None:
        self.process = psutil.Process(pid)
        self.every_s = every_s
        self.bytes = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._done.is_set():
            try:
                self.bytes = max(self.bytes, self.process.memory_info().rss)
            except psutil.NoSuchProcess:
                return
            self._done.wait(self.every_s)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._done.set()
        self._thread.join()
