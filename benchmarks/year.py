"""A year, not a month: ``python -m benchmarks year --size L [--months 12]``.

Starts from the harness's warehouse of that size (run ``python -m benchmarks run --size L``
first: month 1 ingested and allocated), copied to ``benchmarks/out/<size>-year/``, and grows
it month by month the way a year of daily cycles leaves it, by repeating month 1 with drift:
month k is month 1 shifted by 30·(k-1) days, costs and usage up 1.5% a month. Each month's
usage and bill load through ``Warehouse.load`` (so every load records its changed days), and
retention runs after each month with the default settings (usage 3 months, bills 13 months,
allocation for ever). Months 2..N-1 take month 1's allocation shifted and scaled, recorded
as allocated like an allocation's own load (it keeps a 12-month L run near an hour on 2
cores; their first day's reconciliation is off by month k-1's monthly lines overlapping it).
Month N is allocated for real, by ``finops allocate --changed`` in its own process, and timed
against month 1 allocated again in the same run; then one more day is loaded and ``finops
allocate --changed`` timed again. Warehouse size after each month; API latency (p50 of a few
main routes, in-process) at month 1 and month N. ``--resume`` continues the ``<size>-year``
warehouse an earlier run left (its months kept, month 1 not allocated again), so a 2-core
machine can take a year in several sittings.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from typing import Any

from benchmarks.changed import measured
from benchmarks.run import ROOT, WINDOWS
from finops.pipeline.incremental import config_fingerprint
from finops.warehouse import Warehouse
from models.config import load_config
from models.loads import IngestRun, Load, Replace, new_run_id
from models.schemas import (
    ALLOCATED_DAY,
    ALLOCATION,
    CHANGED_DAY,
    COST_LINE,
    K8S_HOURLY,
    TABLES_BY_NAME,
)

MONTH_DAYS = 30
DRIFT = 0.015  # a month, on money and on usage
MONEY = ("list_cost", "billed_cost", "effective_cost", "contracted_cost")
USAGE = ("cpu_usage", "memory_usage")
API = ("/api/allocation?start={start}&end={end}&aggregate=team",
       "/api/allocation?start={start}&end={end}&aggregate=namespace&step=day",
       "/api/unowned?start={start}&end={end}", "/api/teams")

# A template made before migration 0006 (the warehouse of a year begun then) has allocation
# rows without currency columns; its copies get them as 0006 gave existing rows (the bill's
# currency, rate 1), else the month N run refuses days "in no currency".
IN_ONE_CURRENCY = """
UPDATE allocation SET
    currency = coalesce((SELECT mode(billing_currency) FROM cost_line), 'USD'),
    billing_currency = coalesce((SELECT mode(billing_currency) FROM cost_line), 'USD'),
    billing_effective_cost = effective_cost, billing_billed_cost = billed_cost,
    billing_list_cost = list_cost, fx_rate = 1.0, fx_source = 'same-currency'
WHERE currency IS NULL
"""


class Year:
    def __init__(self, size: str, months: int) -> None:
        base = ROOT / "benchmarks" / "out" / size
        self.work = ROOT / "benchmarks" / "out" / f"{size}-year"
        self.db, self.template = self.work / "finops.duckdb", self.work / "template.duckdb"
        self.base_db, self.months = base / "finops.duckdb", months
        self.config = base / "data" / "finops.yaml"
        self.first = date.fromisoformat(WINDOWS[size][0])
        self.fingerprint = config_fingerprint(load_config(self.config))
        self.results: dict[str, Any] = {"size": size, "months": [], "commit": _commit()}

    def start(self, k: int) -> date:
        return self.first + timedelta(days=MONTH_DAYS * (k - 1))

    # -- setting up ----------------------------------------------------------------------
    def grown(self) -> int:
        """How many months an earlier run left allocated in the warehouse (0: none)."""
        if not self.db.exists() or not self.template.exists():
            return 0
        with Warehouse(self.db) as wh:
            row = wh.con.execute(f"SELECT max(day) FROM {ALLOCATED_DAY.name}").fetchone()
        last = row[0] if row else None
        return 0 if last is None else ((last - self.first).days + 1) // MONTH_DAYS

    def prepare(self) -> None:
        """A copy of the month-1 warehouse, and month 1's rows kept aside as the template
        every later month repeats (retention removes month 1's usage from the warehouse)."""
        if not self.base_db.exists():
            raise SystemExit(f"{self.base_db}: run `python -m benchmarks run --size L` first")
        shutil.rmtree(self.work, ignore_errors=True)
        self.work.mkdir(parents=True)
        shutil.copyfile(self.base_db, self.db)
        tables = [COST_LINE.name, ALLOCATION.name, *(h.table.name for h in K8S_HOURLY)]
        with Warehouse(self.db) as wh:
            wh.con.execute(f"ATTACH '{self.template}' AS tmpl")
            for name in tables:
                wh.con.execute(f"CREATE TABLE tmpl.{name} AS SELECT * FROM {name}")
            wh.con.execute("DETACH tmpl")

    # -- one month -----------------------------------------------------------------------
    def load_month(self, wh: Warehouse, k: int, *, days: tuple[int, int] = (0, MONTH_DAYS)) -> None:
        """Month k's usage and bill (its days ``days``, 0-based), through the write path."""
        shift, factor = MONTH_DAYS * (k - 1), 1 + DRIFT * (k - 1)
        lo, hi = (datetime.combine(self.first, datetime.min.time()) + timedelta(days=d)
                  for d in days)
        window = {"s": lo + timedelta(days=shift), "e": hi + timedelta(days=shift)}
        usage = [Replace(h.table, _shifted(h.table.name, "hour", shift, factor, USAGE, lo, hi),
                         "hour >= $s AND hour < $e", window) for h in K8S_HOURLY]
        bill = Replace(COST_LINE, _shifted(COST_LINE.name, "charge_period_start", shift, factor,
                                           MONEY, lo, hi),
                       "charge_period_start >= $s AND charge_period_start < $e", window)
        wh.load(Load(IngestRun(new_run_id("year"), "year-usage", None, None, []), usage))
        wh.load(Load(IngestRun(new_run_id("year"), "year-bill", None, None, []), [bill]))

    def copy_allocation(self, wh: Warehouse, k: int) -> None:
        """Month 1's allocation as month k's, loaded like an allocation's own load."""
        shift, factor = MONTH_DAYS * (k - 1), 1 + DRIFT * (k - 1)
        days = [self.start(k) + timedelta(days=d) for d in range(MONTH_DAYS)]
        window = {"days": days}
        money = ", ".join(f"{m} * {factor} AS {m}" for m in ("billed_cost", "effective_cost",
                                                             "list_cost"))
        rows = (f"SELECT * REPLACE (day + INTERVAL {shift} DAY AS day, {money}) "
                "FROM tmpl.allocation")
        allocated = (f"SELECT DISTINCT CAST(day + INTERVAL {shift} DAY AS DATE) AS day, "
                     f"'year-copy' AS run_id, '{self.fingerprint}' AS config_fingerprint, "
                     "now()::TIMESTAMP AS allocated_at FROM tmpl.allocation")
        where = "list_contains($days, day)"
        wh.load(Load(IngestRun(new_run_id("year"), "year-allocation", None, None, []),
                     [Replace(ALLOCATION, rows, where, window),
                      Replace(ALLOCATED_DAY, allocated, where, window),
                      Replace(CHANGED_DAY, CHANGED_DAY.empty(), where, window)]))
        wh.con.execute(IN_ONE_CURRENCY)


    def retain(self, wh: Warehouse) -> dict[str, Any]:
        from finops import retention
        from finops.settings import RetentionSettings

        with wh.reader() as reader:
            plan = retention.plan(reader, RetentionSettings(), self.fingerprint)  # type: ignore[call-arg]
        report = retention.apply(wh, plan)
        return {"rows_removed": plan.rows, "file_before": report.before.file_bytes,
                "file_after": report.after.file_bytes, "free_before": report.before.free_bytes,
                "free_after": report.after.free_bytes}

    def grow(self, k: int) -> dict[str, Any]:
        began = time.perf_counter()
        with Warehouse(self.db) as wh:
            wh.con.execute(f"ATTACH '{self.template}' AS tmpl (READ_ONLY)")
            self.load_month(wh, k)
            loaded = time.perf_counter() - began
            self.copy_allocation(wh, k)
            kept = self.retain(wh)
            wh.con.execute("DETACH tmpl")
            rows = _rows(wh)
        return {"month": k, "load_s": round(loaded, 1),
                "month_s": round(time.perf_counter() - began, 1), "retention": kept,
                "bytes": self.db.stat().st_size, "rows": rows}

    # -- measured with the real commands ---------------------------------------------------
    def allocate(self, *args: str) -> dict[str, Any]:
        """``finops allocate ARGS`` in its own process: wall and CPU seconds, peak RSS
        (``benchmarks.changed.measured``, the one way the harness times a command)."""
        argv = [sys.executable, "-m", "finops", "--db", str(self.db), "--config",
                str(self.config), "--no-publish", "allocate", *args]
        found = measured(argv, ROOT)
        said = [line for line in found["stderr"].splitlines() if "days changed" in line or
                line.startswith("run ")]
        return {"wall_s": found["wall_s"], "cpu_s": found["cpu_s"],
                "peak_rss_mb": found["peak_rss_mb"], "said": said}

    def api(self, k: int) -> dict[str, float]:
        """p50 of 5 requests per route (in-process) over month k, on a fresh publish."""
        from fastapi.testclient import TestClient

        from benchmarks.run import demo_token
        from finops.api.app import create_app
        from finops.settings import get_settings

        with Warehouse(self.db) as wh:
            wh.publish()
        start, end = self.start(k), self.start(k) + timedelta(days=MONTH_DAYS - 1)
        app = create_app(get_settings(db=self.db, config=self.config))
        headers = {"Authorization": f"Bearer {demo_token()}"}
        found: dict[str, float] = {}
        with TestClient(app) as client:
            for template in API:
                path = template.format(start=start, end=end)
                times = []
                for _ in range(5):
                    began = time.perf_counter()
                    response = client.get(path, headers=headers)
                    times.append((time.perf_counter() - began) * 1000)
                    if response.status_code != 200:
                        raise SystemExit(f"GET {path}: {response.status_code}")
                found[template.split("?")[0] + _aggregate(template)] = round(sorted(times)[2], 1)
        return found


def _aggregate(template: str) -> str:
    return " by namespace/day" if "step=day" in template else (
        " by team" if "aggregate=team" in template else "")


def _shifted(table: str, column: str, shift: int, factor: float, scaled: tuple[str, ...],
             lo: datetime, hi: datetime) -> str:
    """Month 1's rows of ``table`` in [lo, hi) by ``column``, every timestamp moved ``shift``
    days later and ``scaled`` columns multiplied by ``factor``."""
    schema = TABLES_BY_NAME[table].schema
    moved = [f'"{c}" + INTERVAL {shift} DAY AS "{c}"' for c, t in schema.items()
             if str(t).startswith("Datetime")]
    moved += [f'"{c}" * {factor} AS "{c}"' for c in scaled if c in schema]
    return (f"SELECT * REPLACE ({', '.join(moved)}) FROM tmpl.{table} "
            f"WHERE {column} >= TIMESTAMP '{lo}' AND {column} < TIMESTAMP '{hi}'")


def _rows(wh: Warehouse) -> dict[str, int]:
    names = [COST_LINE.name, ALLOCATION.name, "k8s_pod_hour"]
    return {n: int(wh.con.execute(f"SELECT count(*) FROM {n}").fetchall()[0][0]) for n in names}


def _commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True, cwd=ROOT, check=False)
    return done.stdout.strip()


def _load() -> list[float]:
    return [round(x, 1) for x in __import__("os").getloadavg()]


def run_year(size: str, months: int, *, resume: bool = False) -> dict[str, Any]:
    year = Year(size, months)
    r = year.results
    r["started"] = datetime.now().isoformat(timespec="seconds")
    r["load_average_start"] = _load()
    grown = year.grown() if resume else 0
    if not grown:
        year.prepare()
        end1 = year.start(1) + timedelta(days=MONTH_DAYS - 1)
        r["month_1_allocate"] = year.allocate("--start", str(year.start(1)), "--end", str(end1))
        r["month_1_api_ms"] = year.api(1)
        r["month_1_bytes"] = year.db.stat().st_size
        grown = 1
    r["resumed_after_month"] = grown if resume else None
    r["bytes_before_month_n"] = year.db.stat().st_size
    for k in range(grown + 1, months):
        r["months"].append(year.grow(k))
        print(json.dumps(r["months"][-1]), flush=True)  # noqa: T201
    with Warehouse(year.db) as wh:  # month N: loaded, then allocated for real
        wh.con.execute(f"ATTACH '{year.template}' AS tmpl (READ_ONLY)")
        began = time.perf_counter()
        year.load_month(wh, months, days=(0, MONTH_DAYS - 1))
        wh.con.execute(IN_ONE_CURRENCY)  # months an earlier sitting copied
        r["month_n_load_s"] = round(time.perf_counter() - began, 1)
    r["month_n_allocate"] = year.allocate()  # the changed days: month N but its last day
    with Warehouse(year.db) as wh:  # one new day
        wh.con.execute(f"ATTACH '{year.template}' AS tmpl (READ_ONLY)")
        year.load_month(wh, months, days=(MONTH_DAYS - 1, MONTH_DAYS))
    r["one_day_allocate"] = year.allocate()
    with Warehouse(year.db) as wh:
        r["month_n_retention"] = year.retain(wh)
        r["month_n_rows"] = _rows(wh)
    r["month_n_api_ms"] = year.api(months)
    r["month_n_bytes"] = year.db.stat().st_size
    r["load_average_end"] = _load()
    return r
