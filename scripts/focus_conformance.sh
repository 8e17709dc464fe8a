#!/usr/bin/env bash
# FOCUS 1.2 conformance of `finops export focus`, checked with the FinOps Foundation's
# focus-validator (PyPI). The validator needs Python >= 3.12 and duckdb < 2, so it lives in
# its OWN venv (default /tmp/focus-venv), never in the project's .venv.
#
#   scripts/focus_conformance.sh            # ingest the test samples, export, validate
#   PYTHON=python3.12 FOCUS_VENV=... FOCUS_WORK=... scripts/focus_conformance.sh
#
# Writes $FOCUS_WORK/focus.parquet, focus-junit.xml and console.txt; prints the totals.
# Exit 0 when the validator ran (failed rules are reported, see docs/focus-conformance.md).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${FOCUS_VENV:-/tmp/focus-venv}
WORK=${FOCUS_WORK:-/tmp/focus-conformance}
DATA=$ROOT/tests/ingestion/data

find_python() {
  for candidate in "${PYTHON:-}" python3.13 python3.12 /root/.pyenv/versions/3.12*/bin/python3.12; do
    [ -n "$candidate" ] || continue
    if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
      echo "$candidate"; return
    fi
  done
  uv python find '>=3.12' 2>/dev/null || { echo "need Python >= 3.12 (set PYTHON=)" >&2; exit 1; }
}

if [ ! -x "$VENV/bin/focus-validator" ]; then
  "$(find_python)" -m venv "$VENV"
  # pyarrow>=22 refuses the numpy 1.26 focus-validator pins
  "$VENV/bin/pip" install -q "focus-validator==2.2.1" "pyarrow<22"
fi

rm -rf "$WORK" && mkdir -p "$WORK"
export FINOPS_DB="$WORK/finops.duckdb"
FINOPS="$ROOT/.venv/bin/finops"
"$FINOPS" ingest focus "$DATA/focus-1.0/focus_sample.csv"
"$FINOPS" ingest azure "$DATA/azure-toolkit/EA_AmortizedCost_Small.csv" "$DATA"/azure-variants/*.csv
"$FINOPS" ingest gcp-billing "$DATA"/gcp-billing/*.csv
"$FINOPS" export focus --start 2019-01-01 --end 2025-12-31 "$WORK/focus.parquet"

# The validator opens focus_validator/rules/currency_codes.csv relative to the working
# directory: run it from its site-packages directory, offline (bundled 1.2 model).
SITE=$("$VENV/bin/python" -c 'import focus_validator, os; print(os.path.dirname(os.path.dirname(focus_validator.__file__)))')
cd "$SITE"
"$VENV/bin/focus-validator" --data-file "$WORK/focus.parquet" --validate-version 1.2 \
  --block-download | tee "$WORK/console.txt" | tail -n 5
"$VENV/bin/focus-validator" --data-file "$WORK/focus.parquet" --validate-version 1.2 \
  --block-download --applicability-criteria ALL --output-type unittest \
  --output-destination "$WORK/focus-junit.xml" > /dev/null
"$VENV/bin/python" - "$WORK/focus-junit.xml" <<'PY'
import sys
import xml.etree.ElementTree as ET

root = ET.parse(sys.argv[1]).getroot()
print("applicability ALL (JUnit):",
      {k: root.get(k) for k in ("tests", "failures", "errors", "skipped")})
failed = sorted({c.get("name") for c in root.iter("testcase") if c.find("failure") is not None})
print("failed rules:", ", ".join(failed))
PY
