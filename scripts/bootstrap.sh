#!/usr/bin/env bash
# Make the project runnable on a fresh clone: uv, the locked virtualenv (.venv), and with
# --system the Debian packages the integration tests need (scripts/apt-packages.txt).
# Idempotent and quiet when everything is already in place.
set -euo pipefail
cd "$(dirname "$0")/.."

want_system=0
[ "${1:-}" = "--system" ] && want_system=1

log() { printf '[bootstrap] %s\n' "$*" >&2; }

python_bin() {
    for candidate in python3 python3.11 python3.12 python3.13; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"; return 0
        fi
    done
    log "Python >= 3.11 is required"; exit 1
}

ensure_uv() {
    command -v uv >/dev/null 2>&1 && return 0
    log "installing uv (pip)"
    "$(python_bin)" -m pip install --quiet --upgrade uv >&2 || return 1
    hash -r
    command -v uv >/dev/null 2>&1
}

ensure_venv() {
    if ensure_uv; then
        # --frozen: install exactly the lock file, never re-resolve (the registry is slow).
        # --compile-bytecode: every `finops` start reads .pyc instead of compiling ~1,000
        # modules (environments that set PYTHONDONTWRITEBYTECODE never write them).
        uv sync --frozen --extra dev --quiet --compile-bytecode --python "$(python_bin)"
    else
        log "uv unavailable; falling back to pip with requirements-lock.txt"
        [ -x .venv/bin/python ] || "$(python_bin)" -m venv .venv
        .venv/bin/python -m pip install --quiet --upgrade pip
        .venv/bin/python -m pip install --quiet -r requirements-lock.txt
        .venv/bin/python -m pip install --quiet --no-deps -e .
    fi
}

ensure_apt_packages() {
    local missing=()
    while read -r pkg; do
        [ -z "$pkg" ] || [[ "$pkg" == \#* ]] && continue
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done < scripts/apt-packages.txt
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing Debian packages: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >&2
}

# The Backstage client (integrations/backstage) when node is there: `npm ci` from its lock
# file, again only when the lock file changed (a stamp in node_modules remembers it).
ensure_node_deps() {
    local dir=integrations/backstage
    command -v npm >/dev/null 2>&1 || { log "no npm: skipping $dir (its test needs node)"; return 0; }
    local want; want=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
    [ "$(cat "$dir/node_modules/.finops-lock-sha256" 2>/dev/null)" = "$want" ] && return 0
    log "installing $dir's node packages (npm ci)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
    echo "$want" > "$dir/node_modules/.finops-lock-sha256"
}

started=$(date +%s)
ensure_venv
ensure_node_deps
.venv/bin/python -m compileall -q finops ingestion models dashboards benchmarks >/dev/null || true
[ $want_system -eq 1 ] && ensure_apt_packages
log "ready in $(( $(date +%s) - started ))s (.venv/bin/finops)"
