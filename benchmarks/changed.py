"""One changed day against the full month: ``python -m benchmarks changed --size L``.

On a copy of the size's month-1 warehouse (``benchmarks/out/<size>/finops.duckdb``, the
harness's run; copied to ``benchmarks/out/<size>-changed/``; ``--workdir DIR`` for another
directory than ``benchmarks/out/<size>``, the copy then in ``DIR-changed``), each in its own
process:

1. ``finops allocate --start FIRST --end LAST`` (the month), then a publish;
2. any day the warehouse still owes outside the window (a freshly loaded L bill has lines on
   2026-10-31, one day past the usage) allocated by ``finops allocate``, unmeasured
   (``caught_up``), before that publish: the measured day run must find one day owed, not two;
3. one day made changed the way a load does: the last day's pod-hours reloaded through
   ``Warehouse.load`` with their CPU usage 1 % higher (an unchanged reload marks nothing);
4. ``finops allocate`` (the changed days), then a publish. The harness stops if that run
   allocated anything but that one day.

Per process: wall and CPU seconds and peak RSS (``os.wait4``); in process: the run's
``ingest_runs.duration_s`` (no interpreter start nor imports) and the publish's own seconds,
with its rollups' part, and the snapshot's file copy timed alone. After the copy and after
every step that writes, the harness waits for the page cache's writes to reach the disk
(``settle``, timed apart as ``sync_s``), so that no measured process pays for the step before.
``--code DIR`` runs the steps with the code of another checkout (``git archive COMMIT | tar -x
-C DIR``), for before/after in the same hour.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import duckdb

from benchmarks.run import ROOT, WINDOWS

# Run by the code under test (``--code``): only interfaces every version has.
CHANGE_DAY = """
import sys
from datetime import datetime, timedelta
from finops.warehouse import Warehouse
from models.loads import IngestRun, Load, Replace, new_run_id
from models.schemas import K8S_POD_HOUR
day = datetime.fromisoformat(sys.argv[2])
window = {"s": day, "e": day + timedelta(days=1)}
with Warehouse(__import__("pathlib").Path(sys.argv[1])) as wh:
    wh.con.execute("CREATE TEMP TABLE _day AS SELECT * REPLACE (cpu_usage * 1.01 AS cpu_usage) "
                   "FROM k8s_pod_hour WHERE hour >= $s AND hour < $e", window)
    wh.load(Load(IngestRun(new_run_id("bench"), "bench-usage", None, None, []),
                 [Replace(K8S_POD_HOUR, "SELECT * FROM _day", "hour >= $s AND hour < $e",
                          window)]))
"""
PUBLISH = """
import json, shutil, sys, time
from pathlib import Path
from finops.rollups import build_rollups
from finops.warehouse import Warehouse
path = Path(sys.argv[1])
with Warehouse(path) as wh:
    began = time.perf_counter()
    build_rollups(wh.con)  # the publish's first part, timed alone (it finds nothing left)
    rollups = time.perf_counter() - began
    wh.publish()
    published = time.perf_counter() - began
    made = getattr(wh, "snapshot_made", None)  # how the snapshot was made (clone or copy)
    wh.con.execute("CHECKPOINT")
    copied = None
    # the copy alone, timed when the disk holds a third copy (a year's warehouse is ~12 GB)
    if shutil.disk_usage(path.parent).free > 2 * path.stat().st_size:
        began = time.perf_counter()
        shutil.copyfile(path, path.with_name("copy-timed.tmp"))
        copied = round(time.perf_counter() - began, 2)
        path.with_name("copy-timed.tmp").unlink()
print(json.dumps({"publish_s": round(published, 2), "rollups_s": round(rollups, 2),
                  "copy_s": copied, "snapshot": made}))
"""


# Bytecode compiled once (``warm``) and kept here, as the image keeps it (deploy/Dockerfile:
# UV_COMPILE_BYTECODE): without it every process compiles each module it imports.
PYCACHE = ROOT / "benchmarks" / "out" / "pycache"


def warm(code: Path) -> None:
    """Compile the bytecode of every module ``finops --help`` imports (all commands')."""
    measured([sys.executable, "-m", "finops", "--help"], code)


def measured(argv: list[str], code: Path) -> dict[str, Any]:
    """``argv`` in its own process with ``code`` first on the path: wall, and CPU and peak RSS
    from the child's own rusage (the harness's children's would mix every step's)."""
    env = {**os.environ, "PYTHONPATH": str(code), "PYTHONPYCACHEPREFIX": str(PYCACHE)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    began = time.perf_counter()
    child = subprocess.Popen(argv, cwd=code, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    out_file, err_file = child.stdout, child.stderr
    assert out_file is not None and err_file is not None
    stdout, stderr = out_file.read(), err_file.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - began
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"{' '.join(argv[:8])} failed:\n{stderr[-3000:]}")
    # Milliseconds: a day's run takes 1.5-2.5 s, so tenths would move its ratio by up to 3 %.
    return {"wall_s": round(wall, 3), "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
            "peak_rss_mb": round(usage.ru_maxrss / 1024), "stdout": stdout, "stderr": stderr}


class Changed:
    def __init__(self, size: str, code: Path, source: Path | None = None,
                 window: tuple[str, str] | None = None, workdir: Path | None = None) -> None:
        # Absolute: the measured commands run in the code's tree (``--code``), not here.
        self.base = (workdir or ROOT / "benchmarks" / "out" / size).resolve()
        self.source = (source or self.base / "finops.duckdb").resolve()
        self.work = self.base.with_name(f"{self.base.name}-changed")
        self.db, self.code = self.work / "finops.duckdb", code
        self.config = self.base / "data" / "finops.yaml"
        self.first, self.last = window or WINDOWS[size]

    def prepare(self) -> None:
        if not self.source.exists():
            raise SystemExit(f"{self.source}: run `python -m benchmarks run --size L` first")
        shutil.rmtree(self.work, ignore_errors=True)
        self.work.mkdir(parents=True)
        shutil.copyfile(self.source, self.db)
        settle()

    def allocate(self, *args: str) -> dict[str, Any]:
        argv = [sys.executable, "-m", "finops", "--db", str(self.db), "--config",
                str(self.config), "--no-publish", "allocate", *args]
        found = measured(argv, self.code)
        found["in_process_s"] = self._last_run_seconds()
        found["said"] = [line for line in found.pop("stderr").splitlines()
                         if "changed" in line or line.startswith("run ")]
        del found["stdout"]
        return found

    def publish(self) -> dict[str, Any]:
        found = measured([sys.executable, "-c", PUBLISH, str(self.db)], self.code)
        found.update(json.loads(found.pop("stdout").strip().splitlines()[-1]))
        del found["stderr"]
        found["sync_s"] = settle()
        return found

    def change_day(self) -> dict[str, Any]:
        found = measured([sys.executable, "-c", CHANGE_DAY, str(self.db), self.last], self.code)
        return {"wall_s": found["wall_s"], "cpu_s": found["cpu_s"], "sync_s": settle()}

    def owed(self) -> list[str]:
        """The days ``finops allocate`` would allocate now (``incremental.owed``: changed
        since their last allocation, or allocated under another configuration)."""
        from finops.pipeline.incremental import owed
        from finops.warehouse import CursorReader
        from models.config import load_config

        config = load_config(self.config)
        with self._connection() as con:
            return [str(day) for day in owed(CursorReader(con), config).days]

    def catch_up(self) -> dict[str, Any]:
        """Allocate what the warehouse owes besides the window (unmeasured), so that the day
        run finds only its own day; what was owed and what the run said."""
        owed = self.owed()
        return {"owed": owed, **(self.allocate() if owed else {})}

    def _last_run_seconds(self) -> float:
        with self._connection() as con:
            [(seconds,)] = con.execute("SELECT duration_s FROM ingest_runs WHERE source = "
                                       "'allocate' ORDER BY started_at DESC LIMIT 1").fetchall()
        return round(float(seconds), 3)

    def _connection(self) -> closing[duckdb.DuckDBPyConnection]:
        """The copy, read-only: the harness writes nothing the measured commands would not."""
        return closing(duckdb.connect(str(self.db), read_only=True))


RUN_DAYS = re.compile(r"^run \S+: (\d+) days \(([^)]*)\)")


def one_day_only(said: list[str], day: str) -> None:
    """Stop unless the run that said ``said`` allocated ``day`` alone: a ratio of two days
    against the month is not the one measured."""
    runs = [m for m in map(RUN_DAYS.match, said) if m]
    if [(m.group(1), m.group(2)) for m in runs] != [("1", day)]:
        raise SystemExit(f"the day run allocated more or other than {day}: " + " | ".join(said))


def settle() -> float:
    """Wait until the step before is on disk (``os.sync``); its seconds. A copy or publish
    writes ~1.6 GB at L; on a disk slower than this machine's (where it measured 0.0 s: the
    kernel had written it back by then) the next measured process would pay for the
    writeback. It is the step before's cost: reported with it as ``sync_s``, outside every
    measured process."""
    began = time.perf_counter()
    os.sync()
    return round(time.perf_counter() - began, 2)


def run_changed(size: str, code: Path | None = None, source: Path | None = None,
                window: tuple[str, str] | None = None,
                workdir: Path | None = None) -> dict[str, Any]:
    """The month (``window``, default the size's), one changed day (its last), each allocated
    in its own process, on a copy of ``source`` (default the size's harness warehouse, in
    ``workdir``: default ``benchmarks/out/<size>``)."""
    bench = Changed(size, (code or ROOT).resolve(), source, window, workdir)
    result: dict[str, Any] = {"size": size, "code": str(bench.code), "commit": _commit(bench.code),
                              "source": str(bench.source), "window": [bench.first, bench.last],
                              "load_average_start": _load()}
    bench.prepare()
    warm(bench.code)
    result["month"] = bench.allocate("--start", bench.first, "--end", bench.last)
    result["caught_up"] = bench.catch_up()
    result["month_publish"] = bench.publish()
    result["change_day"] = bench.change_day()
    result["day"] = bench.allocate()
    one_day_only(result["day"]["said"], bench.last)
    result["day_publish"] = bench.publish()
    result["ratios"] = ratios(result)
    result["load_average_end"] = _load()
    return result


def ratios(result: dict[str, Any]) -> dict[str, float]:
    """month / day: wall, CPU and in process, without and with the publish."""
    month, day = result["month"], result["day"]
    mp, dp = result["month_publish"], result["day_publish"]
    return {"wall": _ratio(month["wall_s"], day["wall_s"]),
            "cpu": _ratio(month["cpu_s"], day["cpu_s"]),
            "in_process": _ratio(month["in_process_s"], day["in_process_s"]),
            "wall_with_publish": _ratio(month["wall_s"] + mp["wall_s"],
                                        day["wall_s"] + dp["wall_s"]),
            "cpu_with_publish": _ratio(month["cpu_s"] + mp["cpu_s"], day["cpu_s"] + dp["cpu_s"])}


def _ratio(month: float, day: float) -> float:
    return round(month / day, 2)


def _commit(code: Path) -> str:
    """The checkout's commit (an exported tree: its COMMIT file)."""
    if (code / "COMMIT").exists():
        return (code / "COMMIT").read_text().strip()
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True, cwd=code, check=False)
    return done.stdout.strip()


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]
