"""The runner interface: ``LocalRunner`` reads and partitions on threads of their own, keeps
key order, raises what fails; the partition function travels by pickle (a process pool or
Ray will send it to workers)."""

from __future__ import annotations

import pickle
import threading
from contextlib import closing
from datetime import date
from functools import partial

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from finops.allocation.inputs import AllocationInputs
from finops.allocation.prepare import prepare_day
from finops.pipeline.allocate import allocate_partition
from finops.pipeline.currency import FxPlan
from finops.pipeline.runner import WHOLE_DAY, LocalRunner, PartitionKey, Runner
from models.config import parse_config
from tests.support.rows import DAY, bill_row, labels, node_rows, pod_rows

INSTANCE = "i-0aaa00000000000a"
KEYS = [PartitionKey(date(2024, 5, d)) for d in (1, 2, 3, 4)]


def test_local_runner_keeps_key_order_on_threads_of_its_own() -> None:
    seen: dict[str, set[str]] = {"read": set(), "partition": set()}

    def read(key: PartitionKey) -> int:
        seen["read"].add(threading.current_thread().name)
        return key.day.day

    def partition(key: PartitionKey, item: int) -> tuple[date, int]:
        seen["partition"].add(threading.current_thread().name)
        return key.day, item * 10

    runner: Runner = LocalRunner()
    with closing(runner.run(KEYS, read, partition)) as results:
        assert list(results) == [(k.day, k.day.day * 10) for k in KEYS]
    assert seen == {"read": {"finops-read"}, "partition": {"finops-allocate"}}
    assert KEYS[0].cluster == WHOLE_DAY


def test_a_failing_read_reaches_the_consumer_and_stops_the_run() -> None:
    def read(key: PartitionKey) -> int:
        if key.day.day == 3:
            raise ValueError("day 3 is unreadable")
        return key.day.day

    done: list[int] = []
    with pytest.raises(ValueError, match="unreadable"):
        with closing(LocalRunner().run(KEYS, read, lambda _k, item: done.append(item))) as out:
            list(out)
    assert done == [1, 2]


def test_the_partition_function_and_its_inputs_travel_by_pickle() -> None:
    config = parse_config({})
    inputs = AllocationInputs.build(
        nodes=pl.DataFrame(node_rows("n1", provider_id=f"aws:///us-east-1a/{INSTANCE}")),
        pods=pl.DataFrame(pod_rows("p1", "n1", "payments", pod_labels=labels(team="payments"))),
        bill=pl.DataFrame([bill_row(INSTANCE, 24.0)]))
    prepared = prepare_day(inputs.for_day(DAY), config)
    fx = FxPlan("EUR", "test", pl.DataFrame({
        "day": [DAY], "billing_account_id": ["acct-1"], "priced_by": ["bill"],
        "billing_currency": ["USD"], "currency": ["EUR"], "fx_rate": [0.5],
        "fx_source": ["finops.yaml"]}))
    function = partial(allocate_partition, config, "run-1", fx)
    here = function(PartitionKey(DAY), prepared)
    there = pickle.loads(pickle.dumps(function))(PartitionKey(DAY),
                                                 pickle.loads(pickle.dumps(prepared)))
    order = ["cost_kind", "namespace", "node", "team"]
    # the same rows; amounts to the last bits only (the engine's streaming group-bys may sum
    # in another order from one run to the next)
    assert_frame_equal(there.rows.sort(order, nulls_last=True),
                       here.rows.sort(order, nulls_last=True), check_exact=False, rel_tol=1e-12)
    assert there.totals == pytest.approx(here.totals)
    # 24 USD billed, reported in EUR at 0.5; the amounts as billed stay beside them
    assert here.clusters == ["c1"] and round(here.totals["billed"], 2) == 12.0
    assert round(here.totals["teams"] + here.totals["idle"], 2) == 12.0  # the node, all of it
    assert round(here.rows["billing_effective_cost"].sum(), 2) == 24.0
    assert set(here.rows["currency"]) == {"EUR"} and set(here.rows["billing_currency"]) == {"USD"}
