"""``ahead``: run an iterator one item ahead on a background thread (``LocalRunner``'s stages).

The local allocation run is a pipeline of three steps over days: DuckDB reads a day's
inputs, the Polars engine allocates it, DuckDB spools its rows. Each step spends most of its
time in native code that releases the GIL, so running them on their own threads overlaps
them on the machine's cores; ``ahead`` holds at most one finished item beside the one the
consumer is working on, so memory grows by one item per stage, not by the window.
"""

from __future__ import annotations

import threading
from collections.abc import Generator, Iterator
from queue import Empty, Queue
from typing import Any, TypeVar

T = TypeVar("T")
_DONE = object()
_POLL_S = 0.1  # how often a blocked thread looks whether the consumer went away


def ahead(items: Iterator[T], name: str = "finops-ahead") -> Generator[T, None, None]:
    """Yield ``items`` in order, each produced on a background thread while the consumer
    works on the one before. An exception in the producer is raised in the consumer; a
    consumer that stops early (or fails) stops the producer after its current item."""
    slots = threading.Semaphore(1)
    queue: Queue[tuple[Any, BaseException | None]] = Queue()
    stop = threading.Event()

    def produce() -> None:
        try:
            while _acquire(slots, stop):
                item = next(items, _DONE)
                queue.put((item, None))
                if item is _DONE:
                    return
        except BaseException as exc:  # noqa: BLE001 — handed to the consumer, raised there
            queue.put((_DONE, exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()  # a generator's own cleanup (its ``with`` blocks) runs here, in order

    thread = threading.Thread(target=produce, name=name, daemon=True)
    thread.start()
    try:
        while True:
            item, error = _get(queue, thread)
            if error is not None:
                raise error
            if item is _DONE:
                return
            slots.release()  # the producer starts on the next item while this one is used
            yield item
    finally:
        stop.set()
        thread.join()


def _acquire(slots: threading.Semaphore, stop: threading.Event) -> bool:
    while not stop.is_set():
        if slots.acquire(timeout=_POLL_S):
            return not stop.is_set()
    return False


def _get(queue: Queue[tuple[Any, BaseException | None]], thread: threading.Thread,
         ) -> tuple[Any, BaseException | None]:
    while True:
        try:
            return queue.get(timeout=_POLL_S)
        except Empty:
            if not thread.is_alive() and queue.empty():
                return _DONE, RuntimeError("the producer thread ended without a result")
