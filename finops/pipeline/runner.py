"""The runner interface: partition keys in, a partition function applied to each, results out.

A run of the engine is a map over partitions keyed (cluster, day): read a partition's inputs
where the warehouse is, apply the partition function, hand the result on. ``Runner`` is that
map and nothing more, so the same run goes on threads here (``LocalRunner``), on a process
pool (``finops.pipeline.remote.ProcessRunner``) or on Ray (``finops.pipeline.ray_runner``):
those write each partition's inputs as Parquet files on shared storage and hand the worker
their place, and the partition function runs in the worker. So the partition function is a
top-level, picklable function of picklable arguments (a ``functools.partial`` of one is
fine); ``read`` may be a closure: it runs in the caller's process.

A runner says which keys it wants (``per_cluster``): ``LocalRunner`` takes whole days
(``WHOLE_DAY``), since the engine allocates every cluster of a day in one pass of grouped
frame operations, which on one machine is faster than a partition per cluster; runners whose
workers are elsewhere take one key per (cluster, day) and one per day for the spend outside
clusters (``OUTSIDE``).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import date
from typing import Protocol, TypeVar

from finops.pipeline.threads import ahead

WHOLE_DAY = "*"
OUTSIDE = "(outside clusters)"  # the day's cloud spend, taxes, credits, commitments
In = TypeVar("In")
Out = TypeVar("Out")


@dataclass(frozen=True, order=True)
class PartitionKey:
    """What one call of the partition function covers: ``cluster`` on ``day``; with
    ``WHOLE_DAY``, every cluster of the day and the day's spend outside clusters; with
    ``OUTSIDE``, the day's spend outside clusters alone."""

    day: date
    cluster: str = WHOLE_DAY


class Runner(Protocol):
    per_cluster: bool  # keys per (cluster, day) and OUTSIDE, not whole days

    def run(self, keys: Sequence[PartitionKey], read: Callable[[PartitionKey], In],
            partition: Callable[[PartitionKey, In], Out]) -> Generator[Out, None, None]:
        """``partition(key, read(key))`` for every key, the results in key order. Closing
        the iterator early stops the work; an error anywhere is raised to the consumer."""
        ...


class LocalRunner:
    """Threads in this process: ``read`` runs a key ahead on a reading thread and
    ``partition`` a key ahead on a second one, while the caller consumes the result before:
    three keys in flight, the memory of three. Close the iterator (``contextlib.closing``)
    before whatever ``read`` reads from, so the threads stop first."""

    per_cluster = False

    def run(self, keys: Sequence[PartitionKey], read: Callable[[PartitionKey], In],
            partition: Callable[[PartitionKey, In], Out]) -> Generator[Out, None, None]:
        inputs = ahead(((key, read(key)) for key in keys), "finops-read")

        def results() -> Iterator[Out]:
            with closing(inputs):
                for key, item in inputs:
                    yield partition(key, item)

        return ahead(results(), "finops-allocate")


RUNNERS = ("local", "processes", "ray")
