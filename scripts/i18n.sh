#!/usr/bin/env bash
# Extract translatable strings, update the catalogs and compile them.
#
#   bash scripts/i18n.sh            # extract -> locales/kiosk.pot, update .po, compile .mo
#   bash scripts/i18n.sh compile    # only compile the .po files to .mo
#
# Python code marks strings with _("..."), ngettext(...), N_("...") (kiosk/i18n_markers.py);
# kv files with tr._("...") (kiosk/i18n_kv_extractor.py). A comment starting with
# "TRANSLATORS:" right above a string is shown to translators.
# New language: add its code to LANGUAGES below and run this script.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${KIOSK_VENV:-$REPO/.venv}"
LANGUAGES=(en es zh vi ar)
DOMAIN=kiosk
LOCALES="$REPO/locales"
POT="$LOCALES/$DOMAIN.pot"

log() { echo "[i18n] $*" >&2; }

if [[ -x "$VENV/bin/pybabel" ]]; then
    PYBABEL="$VENV/bin/pybabel"
elif command -v pybabel >/dev/null 2>&1; then
    PYBABEL="$(command -v pybabel)"
else
    log "pybabel not found: run 'bash scripts/setup.sh' first"
    exit 1
fi
cd "$REPO"

compile() {
    local lang po
    for lang in "${LANGUAGES[@]}"; do
        po="$LOCALES/$lang/LC_MESSAGES/$DOMAIN.po"
        [[ -f "$po" ]] || { log "missing $po"; exit 1; }
        "$PYBABEL" compile --domain "$DOMAIN" --directory "$LOCALES" --locale "$lang" --statistics
    done
}

if [[ "${1:-}" == "compile" ]]; then
    compile
    exit 0
fi

log "extracting strings to ${POT#$REPO/}"
"$PYBABEL" --quiet extract \
    --mapping-file babel.cfg \
    --output-file "$POT" \
    --project clinic-kiosk \
    --version "$(sed -n 's/^version *= *"\(.*\)"/\1/p' pyproject.toml | head -n1)" \
    --add-comments TRANSLATORS: \
    --keywords N_ \
    --sort-by-file \
    --width 100 \
    .

for lang in "${LANGUAGES[@]}"; do
    po="$LOCALES/$lang/LC_MESSAGES/$DOMAIN.po"
    if [[ -f "$po" ]]; then
        log "updating ${po#$REPO/}"
        "$PYBABEL" update --domain "$DOMAIN" --input-file "$POT" --output-dir "$LOCALES" \
            --locale "$lang" --width 100 --previous
    else
        log "creating ${po#$REPO/}"
        "$PYBABEL" init --domain "$DOMAIN" --input-file "$POT" --output-dir "$LOCALES" \
            --locale "$lang" --width 100
        # A new catalog's header is marked fuzzy, which makes `compile` skip it.
        sed -i '/^#, fuzzy$/d' "$po"
    fi
done

compile
log "done (translate new or fuzzy entries in the .po files, then run: bash scripts/i18n.sh compile)"
