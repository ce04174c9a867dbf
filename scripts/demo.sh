#!/usr/bin/env bash
# Run the kiosk demo.
#
#   bash scripts/demo.sh [ARGS...]             with $DISPLAY: the kiosk, fullscreen (ARGS passed on)
#   bash scripts/demo.sh [OUT_DIR] [ARGS...]   without $DISPLAY: a screenshot tour under Xvfb
#                                              into OUT_DIR (default screenshots/tour)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${KIOSK_VENV:-$REPO/.venv}"

bash "$REPO/scripts/setup.sh"
cd "$REPO"

if [[ -n "${DISPLAY:-}" ]]; then
    echo "[demo] starting the kiosk on display $DISPLAY (staff PIN in demo mode: 2468)" >&2
    exec "$VENV/bin/python" -m kiosk "$@"
fi

out="$REPO/screenshots/tour"
if [[ $# -gt 0 && "$1" != -* ]]; then
    out="$1"
    shift
fi
command -v xvfb-run >/dev/null 2>&1 || {
    echo "[demo] ERROR: no \$DISPLAY and no xvfb-run (install the Debian package xvfb, or run scripts/setup.sh as root)" >&2
    exit 1
}
mkdir -p "$out"
out="$(cd "$out" && pwd)"
echo "[demo] no \$DISPLAY: running the screenshot tour under Xvfb (1280x800)" >&2
xvfb-run -a -s "-screen 0 1280x800x24" "$VENV/bin/python" -m kiosk --tour "$out" "$@"
echo "[demo] screenshots are in $out"
ls -1 "$out" | sed 's/^/[demo]   /'
