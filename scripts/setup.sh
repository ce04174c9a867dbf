#!/usr/bin/env bash
# Make this machine ready to run and test the kiosk. Idempotent; fast when nothing changed.
#
#   bash scripts/setup.sh
#
# 1. Debian packages (as root; otherwise lists what to install): a virtual X server, Mesa
#    software OpenGL, the X libraries SDL2 (bundled in Kivy's wheel) loads at run time,
#    zbar, mtdev, Noto fonts. `apt-get update` runs only when something is missing.
# 2. Python >= 3.11 virtualenv at ${KIOSK_VENV:-<repo>/.venv} with `pip install -e ".[test]"`,
#    skipped when pyproject.toml (and the venv) are unchanged since the last good install.
# 3. Compiles gettext catalogs (locales/*/LC_MESSAGES/kiosk.po -> .mo) when a .po is newer.
#
# Environment: KIOSK_VENV (venv path), KIOSK_PYTHON (interpreter to build the venv with,
# default python3), KIOSK_SKIP_APT=1 (never touch apt).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${KIOSK_VENV:-$REPO/.venv}"
PYTHON="${KIOSK_PYTHON:-python3}"
STAMP="$VENV/.clinic-kiosk-setup"

log() { echo "[setup] $*" >&2; }
die() { echo "[setup] ERROR: $*" >&2; exit 1; }

# Runtime packages. Kivy 2.3.1's manylinux wheel bundles SDL2 but SDL2 dlopen()s the X11
# libraries below; Mesa gives software OpenGL (llvmpipe) under Xvfb.
APT_PACKAGES=(
    xvfb xauth
    libgl1 libgl1-mesa-dri libegl1 libgles2
    libx11-6 libxext6 libxrender1 libxcursor1 libxi6 libxrandr2 libxss1 libxfixes3
    libxinerama1 libxxf86vm1 libxkbcommon0 libdbus-1-3
    libzbar0 libmtdev1
    libglib2.0-0  # opencv-python (camera, card photos, signature PNGs)
    libusb-1.0-0  # USB receipt printers (python-escpos through pyusb)
    espeak-ng alsa-utils  # offline speech (read-aloud, audio mode) played with aplay
    fonts-noto-core
    ca-certificates
)
# Callers add their own (scripts/test.sh: the headless browser for the web page tests).
read -r -a extra_apt <<< "${KIOSK_EXTRA_APT:-}"
APT_PACKAGES+=("${extra_apt[@]}")

is_installed() {
    [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}

python_ok() {  # python_ok <interpreter>: exists and is >= 3.11
    command -v "$1" >/dev/null 2>&1 &&
        "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' >/dev/null 2>&1
}

venv_ok() {  # the interpreter can make a venv with pip (Debian splits this into python3-venv)
    "$1" -c 'import venv, ensurepip' >/dev/null 2>&1
}

venv_python="$VENV/bin/python"
venv_usable() {
    [[ -x "$venv_python" ]] &&
        "$venv_python" -c 'import sys, pip; sys.exit(0 if sys.version_info >= (3, 11) else 1)' >/dev/null 2>&1
}

# ---------------------------------------------------------------------------------------
# 1. Debian packages
missing=()
if command -v dpkg-query >/dev/null 2>&1; then
    # One dpkg-query for all packages (fast re-runs); unknown packages print nothing.
    installed=" $(dpkg-query -W -f='${Package}=${Status}\n' "${APT_PACKAGES[@]}" 2>/dev/null |
        sed -n 's/^\([^:=]*\)\(:[a-z0-9]*\)\{0,1\}=install ok installed$/\1/p' | tr '\n' ' ' || true) "
    for pkg in "${APT_PACKAGES[@]}"; do
        [[ "$installed" == *" $pkg "* ]] || missing+=("$pkg")
    done
    # Debian's own python3 (+ venv) when there is no venv yet and no usable interpreter.
    if ! venv_usable && [[ "$PYTHON" == python3 ]]; then
        if ! python_ok "$PYTHON"; then
            is_installed python3 || missing+=(python3)
        fi
        if ! { python_ok "$PYTHON" && venv_ok "$PYTHON"; }; then
            is_installed python3-venv || missing+=(python3-venv)
        fi
    fi
else
    log "no dpkg on this machine: not a Debian system, skipping system packages"
fi

if (( ${#missing[@]} )); then
    if [[ "${KIOSK_SKIP_APT:-0}" == 1 ]]; then
        log "KIOSK_SKIP_APT=1: not installing missing Debian packages: ${missing[*]}"
    elif [[ "$(id -u)" -ne 0 ]]; then
        log "not root: skipping apt. Missing Debian packages; ask an admin to run:"
        log "  sudo apt-get install -y --no-install-recommends ${missing[*]}"
    elif ! command -v apt-get >/dev/null 2>&1; then
        log "no apt-get: install these packages by hand: ${missing[*]}"
    else
        log "installing Debian packages: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
        log "Debian packages installed"
    fi
else
    log "Debian packages: all present"
fi

# ---------------------------------------------------------------------------------------
# 2. Python virtualenv
if venv_usable; then
    : # usable venv
else
    if [[ -e "$VENV" ]]; then
        if [[ -f "$VENV/pyvenv.cfg" ]]; then
            log "virtualenv at $VENV is broken or too old: recreating it"
            rm -rf "$VENV"
        else
            die "$VENV exists but is not a virtualenv (no pyvenv.cfg); move it away or set KIOSK_VENV"
        fi
    fi
    python_ok "$PYTHON" || die "need Python >= 3.11 as '$PYTHON' (found: $("$PYTHON" --version 2>&1 || echo none)). Install it (Debian 12: apt-get install python3 python3-venv) or set KIOSK_PYTHON=/path/to/python3.11"
    venv_ok "$PYTHON" || die "'$PYTHON -m venv' cannot work (no venv/ensurepip module). As root: apt-get install python3-venv"
    log "creating virtualenv $VENV with $("$PYTHON" --version 2>&1)"
    "$PYTHON" -m venv "$VENV"
    rm -f "$STAMP"
fi

stamp_value() {
    {
        echo "repo=$REPO"
        "$venv_python" -c 'import sys; print(sys.version)'
        cat "$REPO/pyproject.toml"
    } | sha256sum | cut -d' ' -f1
}

want="$(stamp_value)"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]] &&
    "$venv_python" -c 'import importlib.metadata as m; m.version("clinic-kiosk")' >/dev/null 2>&1; then
    log "Python packages: up to date ($VENV)"
else
    log "upgrading pip"
    "$venv_python" -m pip install --quiet --upgrade pip
    log "installing the project and its test tools (pip install -e \".[test]\")"
    (cd "$REPO" && "$venv_python" -m pip install --quiet -e ".[test]")
    echo "$want" >"$STAMP"
    log "Python packages installed"
fi

# ---------------------------------------------------------------------------------------
# 3. Message catalogs (.po -> .mo) when a .po is newer than its .mo
stale=0
for po in "$REPO"/locales/*/LC_MESSAGES/kiosk.po; do
    [[ -e "$po" ]] || continue
    mo="${po%.po}.mo"
    if [[ ! -f "$mo" || "$po" -nt "$mo" ]]; then stale=1; fi
done
if (( stale )); then
    log "compiling message catalogs"
    for po in "$REPO"/locales/*/LC_MESSAGES/kiosk.po; do
        [[ -e "$po" ]] || continue
        mo="${po%.po}.mo"
        if [[ ! -f "$mo" || "$po" -nt "$mo" ]]; then
            out="$("$VENV/bin/pybabel" compile --domain kiosk --input-file "$po" --output-file "$mo" 2>&1)" ||
                die "could not compile $po: $out"
            [[ -f "$mo" ]] || die "could not compile $po (header marked fuzzy?): $out"
        fi
    done
fi

log "ready: $VENV (activate with: source ${VENV#$REPO/}/bin/activate)"
