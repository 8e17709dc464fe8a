#!/usr/bin/env bash
# The main job: bootstrap if needed, then build the demo warehouse, allocate, check budgets
# (Slack dry-run) and serve the API and dashboards on http://127.0.0.1:8000.
# Extra arguments go to `finops demo` (e.g. --no-serve, --port 8080).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/finops demo "$@"
