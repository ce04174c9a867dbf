#!/usr/bin/env bash
# Start a local PostgreSQL for the practice server's tests and benchmarks; idempotent.
#
#   eval "$(bash scripts/postgres.sh)"   # exports PRACTICE_TEST_POSTGRES_URL
#
# As root on Debian: installs the `postgresql` package if missing, starts the
# cluster with pg_ctlcluster (creating one if there is none), and makes a
# superuser role and database `kiosk_test` (password `kiosk_test`, loopback only).
# Prints the export line on stdout; explains any problem on stderr and exits 1.
set -euo pipefail

log() { echo "[postgres] $*" >&2; }
ROLE=kiosk_test
PORT="${KIOSK_PG_PORT:-5432}"

if [[ $EUID -ne 0 ]]; then
    log "not root: cannot install or start PostgreSQL; set PRACTICE_TEST_POSTGRES_URL yourself"
    exit 1
fi
if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    log "installing postgresql (apt)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi
version="$(ls /usr/lib/postgresql | sort -V | tail -1)"
if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {found=1} END {exit !found}'; then
    log "creating cluster $version/main"
    pg_createcluster --port "$PORT" "$version" main >&2
fi
if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" && $4 == "online" {found=1} END {exit !found}'; then
    log "starting cluster $version/main"
    pg_ctlcluster "$version" main start >&2
fi
port="$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {print $3}')"
psql_as_postgres() { runuser -u postgres -- psql -p "$port" -v ON_ERROR_STOP=1 -qAtX "$@"; }
for _ in $(seq 1 50); do
    psql_as_postgres -c "select 1" >/dev/null 2>&1 && break
    sleep 0.2
done
if [[ "$(psql_as_postgres -c "select 1 from pg_roles where rolname='$ROLE'")" != 1 ]]; then
    psql_as_postgres -c "create role $ROLE login superuser password '$ROLE'" >&2
fi
if [[ "$(psql_as_postgres -c "select 1 from pg_database where datname='$ROLE'")" != 1 ]]; then
    psql_as_postgres -c "create database $ROLE owner $ROLE" >&2
fi
echo "export PRACTICE_TEST_POSTGRES_URL=postgresql+psycopg://$ROLE:$ROLE@127.0.0.1:$port/$ROLE"
