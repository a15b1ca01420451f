#!/usr/bin/env bash
# The whole suite: lint, then every test against SQLite, then against PostgreSQL.
# VOPIX_REQUIRE_POSTGRES=1 (set by .ci/run) turns a missing PostgreSQL into a failure.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PG_URL="${VOPIX_TEST_PG_URL:-postgresql://postgres@127.0.0.1:5432/test}"

if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
  echo "== installing Chromium for the browser tests (Debian package)"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium >/dev/null || {
    echo "could not install chromium"; exit 1; }
fi

echo "== ruff"
$BIN/ruff check . || exit 1

run_pass() {
  local name=$1; shift
  echo "== pytest against $name"
  VOPIX_TEST_DB=$name $BIN/pytest -q -p no:cacheprovider "$@"
  local rc=$?
  if [ $rc -eq 5 ]; then echo "pytest collected no tests: that is a failure"; return 1; fi
  return $rc
}

start=$(date +%s)
run_pass sqlite "$@" || exit 1

if $BIN/python -c "import psycopg,sys; psycopg.connect(sys.argv[1], connect_timeout=3).close()" "$PG_URL" 2>/dev/null; then
  VOPIX_TEST_PG_URL="$PG_URL" run_pass postgres "$@" || exit 1
else
  echo "== SKIPPED the PostgreSQL pass: no PostgreSQL server answers at $PG_URL"
  if [ "${VOPIX_REQUIRE_POSTGRES:-0}" = 1 ]; then echo "PostgreSQL is required here"; exit 1; fi
fi
echo "== all passes green in $(( $(date +%s) - start ))s"
