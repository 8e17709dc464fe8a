"""The decision per billing period (``ingestion.billing.restatement``): what is loaded against
what arrives, by checksum and delivery; refusals name the period, files and both totals."""

from __future__ import annotations

from datetime import datetime

import pytest

from ingestion.billing.checks import Totals
from ingestion.billing.restatement import Held, Incoming, Mode, advance, plan, refusal
from models.loads import RunDelivery

PERIOD = ("000123456789", datetime(2026, 9, 1))
EXPORT = "arn:aws:bcm-data-exports:us-east-1:210987654321:export/focus"
LOOSE = RunDelivery("files", None, "2026-10-02T00:00:00.000000Z")


def held(file: str, sha: str | None, cents: int, *, run: str = "run-1",
         export: str | None = None, version: str | None = None,
         currency: str = "USD") -> Held:
    return Held(run, file, sha, Totals(10, cents / 100, cents / 100), currency, export, version)


def incoming(files: dict[str, tuple[str | None, int]], delivery: RunDelivery = LOOSE,
             currency: str = "USD") -> Incoming:
    return Incoming("run-2", "this delivery", delivery,
                    {PERIOD: {f: Totals(10, c / 100, c / 100) for f, (_, c) in files.items()}},
                    {PERIOD: currency}, {f: sha for f, (sha, _) in files.items()})


def decide(before: list[Held], arriving: Incoming, mode: Mode = "auto") -> str:
    decisions, refusals = plan({PERIOD: before}, arriving, mode)
    return "refused" if refusals else decisions[0].action


@pytest.mark.parametrize(("before", "files", "mode", "action"), [
    ([], {"a.csv": ("A", 100)}, "auto", "new"),
    ([held("a.csv", "A", 100)], {"copy.csv": ("A", 100)}, "auto", "unchanged"),
    ([held("a.csv", "A", 100), held("b.csv", "B", 50)], {"a.csv": ("A", 100)}, "auto",
     "unchanged"),
    ([held("a.csv", "A", 100)], {"a.csv": ("A", 100), "b.csv": ("B", 50)}, "auto", "extended"),
    ([held("a.csv", "A", 100)], {"b.csv": ("B", 50)}, "auto", "refused"),
    ([held("a.csv", "A", 100)], {"b.csv": ("B", 50)}, "append", "appended"),
    ([held("a.csv", "A", 100)], {"b.csv": ("B", 50)}, "replace", "replaced"),
    ([held("a.csv", "A", 100)], {"a.csv": ("A", 100)}, "replace", "unchanged"),
    ([held("a.csv", "A", 100), held("b.csv", "B", 50)], {"a.csv": ("A", 100)}, "replace",
     "replaced"),
    ([held("a.csv", None, 100)], {"a.csv": ("A", 100)}, "auto", "refused"),  # before checksums
])
def test_actions(before: list[Held], files: dict[str, tuple[str | None, int]], mode: Mode,
                 action: str) -> None:
    assert decide(before, incoming(files), mode) == action


def test_a_newer_delivery_of_the_same_export_restates() -> None:
    old = [held("s3://b/e1/focus-00001.csv.gz", "A", 100, export=EXPORT,
                version="2026-09-20T06:00:00.000000Z")]
    newer = RunDelivery("aws-data-export", EXPORT, "2026-09-21T06:00:00.000000Z")
    older = RunDelivery("aws-data-export", EXPORT, "2026-09-19T06:00:00.000000Z")
    other = RunDelivery("aws-data-export", EXPORT + "-other", "2026-09-21T06:00:00.000000Z")
    files = {"s3://b/e2/focus-00001.csv.gz": ("B", 120)}
    assert decide(old, incoming(files, newer)) == "restated"
    assert decide(old, incoming(files, older)) == "refused"
    assert decide(old, incoming(files, other)) == "refused"
    loose = [held("part1.csv", "A", 100)]  # loaded loose: no proof even from an export
    assert decide(loose, incoming(files, newer)) == "refused"


def test_append_writes_only_files_not_already_there() -> None:
    before = [held("a.csv", "A", 100)]
    decisions, _ = plan({PERIOD: before}, incoming({"a2.csv": ("A", 100), "b.csv": ("B", 50)}),
                        "append")
    [decision] = decisions
    assert decision.write == ("b.csv",)
    change = decision.change("focus")
    assert change.lines == (10, 20) and change.effective == (1.0, 1.5)
    assert change.kept_runs == ("run-1",) and change.replaced_runs == ()


def test_append_never_mixes_currencies() -> None:
    decisions, refusals = plan({PERIOD: [held("a.csv", "A", 100)]},
                               incoming({"b.csv": ("B", 50)}, currency="EUR"), "append")
    assert not decisions
    assert "--append would mix currencies ['EUR', 'USD'] in one period" in refusals[0]


def test_a_refusal_names_period_files_totals_and_both_ways_out() -> None:
    _, refusals = plan({PERIOD: [held("/bills/part1.csv", "A", 3320)]},
                       incoming({"/bills/part2.csv": ("B", 1582)}), "auto")
    text = str(refusal("focus", refusals))
    assert text.startswith("focus: nothing loaded")
    assert "billing account 000123456789, period 2026-09 was loaded before" in text
    assert "/bills/part1.csv (run run-1): 10 lines, billed 33.20 USD, effective 33.20 USD" in text
    assert "this delivery (this delivery): 10 lines, billed 15.82 USD" in text
    assert "with --replace the period would hold 10 lines, billed 15.82 USD" in text
    assert "with --append 20 lines, billed 49.02 USD, effective 49.02 USD" in text
    assert "--replace if this delivery restates" in text and "--append if it is another" in text


def test_later_deliveries_of_a_call_see_the_earlier_ones() -> None:
    state: dict = {PERIOD: []}
    first, _ = plan(state, incoming({"a.csv": ("A", 100)}), "auto")
    advance(state, first)
    second = Incoming("run-3", "other", LOOSE, {PERIOD: {"b.csv": Totals(1, 1.0, 1.0)}},
                      {PERIOD: "USD"}, {"b.csv": "B"})
    decisions, refusals = plan(state, second, "auto")
    assert not decisions and "a.csv (run run-2)" in refusals[0]
