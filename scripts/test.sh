#!/usr/bin/env bash
# Set up (scripts/setup.sh), then run pytest from the repo root with the given arguments.
#
#   bash scripts/test.sh                 # everything
#   bash scripts/test.sh -q tests/infra  # a part
#
# GUI tests start their own Xvfb when there is no $DISPLAY (tests/conftest.py).
# The practice server's tests also run on PostgreSQL when one can be started
# (scripts/postgres.sh, as root) or PRACTICE_TEST_POSTGRES_URL is set; else SQLite only.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${KIOSK_VENV:-$REPO/.venv}"

# The portal pages are tested in headless Chromium (Debian's browser and its driver).
KIOSK_EXTRA_APT="chromium chromium-driver ${KIOSK_EXTRA_APT:-}" bash "$REPO/scripts/setup.sh"
cd "$REPO"

if [[ -z "${PRACTICE_TEST_POSTGRES_URL:-}" ]]; then
    if pg_env="$(bash "$REPO/scripts/postgres.sh")"; then
        eval "$pg_env"
    else
        echo "[test] no PostgreSQL: the practice server's tests run on SQLite only" >&2
    fi
fi

rc=0
"$VENV/bin/python" -m pytest "$@" || rc=$?
if [[ $rc -eq 5 ]]; then
    echo "[test] pytest collected no tests (exit code 5): treating as success"
    exit 0
fi
exit "$rc"
