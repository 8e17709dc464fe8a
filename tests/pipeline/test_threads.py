"""``ahead`` keeps order, raises the producer's errors, stays one item ahead, stops cleanly."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from finops.pipeline.threads import ahead


def test_items_arrive_in_order_from_another_thread() -> None:
    threads: set[str] = set()

    def produce() -> Iterator[int]:
        for i in range(5):
            threads.add(threading.current_thread().name)
            yield i

    assert list(ahead(produce(), "t-order")) == [0, 1, 2, 3, 4]
    assert threads == {"t-order"}


def test_a_producer_error_is_raised_in_the_consumer_after_the_good_items() -> None:
    def produce() -> Iterator[int]:
        yield 1
        raise ValueError("day 2 does not reconcile")

    got = []
    with pytest.raises(ValueError, match="does not reconcile"):
        for item in ahead(produce()):
            got.append(item)
    assert got == [1]


def test_the_producer_runs_at_most_one_item_ahead() -> None:
    started: list[int] = []

    def produce() -> Iterator[int]:
        for i in range(10):
            started.append(i)
            yield i

    items = ahead(produce())
    assert next(items) == 0
    time.sleep(0.3)  # ample time for a runaway producer to start items 2, 3, ...
    assert started == [0, 1]
    items.close()


def test_closing_early_stops_the_producer_and_runs_its_cleanup() -> None:
    cleaned = threading.Event()

    def produce() -> Iterator[int]:
        try:
            yield from range(100)
        finally:
            cleaned.set()

    items = ahead(produce())
    assert next(items) == 0
    items.close()
    assert cleaned.is_set()
    assert not any(t.name == "finops-ahead" for t in threading.enumerate())
