#!/usr/bin/env bash
# The whole test suite: bootstrap the venv and the Debian packages the integration tests use
# (Prometheus, Chromium), then lint, type-check and run pytest. Arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --system
.venv/bin/ruff check .
.venv/bin/mypy
exec .venv/bin/pytest "$@"
