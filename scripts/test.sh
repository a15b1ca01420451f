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

if [ ! -x /usr/bin/bwrap ]; then
  echo "== installing bubblewrap for the script sandbox (Debian package)"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq bubblewrap >/dev/null || {
    echo "could not install bubblewrap"; exit 1; }
fi

if ! command -v promtool >/dev/null 2>&1; then
  echo "== installing promtool for the alerting-rules check (Debian package prometheus)"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null || {
    echo "could not install prometheus (promtool)"; exit 1; }
fi

echo "== ruff"
$BIN/ruff check . || exit 1

# The two passes run side by side (the machine has 2 cores and a pass mostly waits on one of
# them), each with its own database, temp folder and Reflex build folder: a browser pass builds
# the frontend for its own server's port, so the two builds must not share .web. Each pass's lines
# are prefixed with its name; the failures of both are shown at the end.
# The cluster pass (tests/cluster: several VOPIX processes on PostgreSQL and Redis) runs after
# them in a process of its own, on PostgreSQL (production's database), so that the machine is
# its own and no browser of another pass shares its Python process.
run_pass() {
  local name=$1; shift
  local db=$name web=".web"
  [ "$name" = cluster ] && db=postgres
  [ "$db" = sqlite ] || web=".web-$db"
  echo "== pytest against $name"
  VOPIX_TEST_DB=$db REFLEX_WEB_WORKDIR="$web" REFLEX_STATES_WORKDIR=".states-$db" \
    $BIN/pytest -q -p no:cacheprovider "$@"
  local rc=$?
  if [ $rc -eq 5 ]; then echo "pytest collected no tests: that is a failure"; return 1; fi
  return $rc
}

# Runs a pass in the background: its output (prefixed) streams, its exit code lands in a file.
start_pass() {
  local name=$1; shift
  ( set -o pipefail
    { run_pass "$name" "$@" 2>&1; echo $? > "$RESULTS/$name.rc"; } | sed -u "s/^/[$name] /" ) &
}

RESULTS=$(mktemp -d)
trap 'rm -rf "$RESULTS"' EXIT
start=$(date +%s)
passes=(sqlite)
if $BIN/python -c "import psycopg,sys; psycopg.connect(sys.argv[1], connect_timeout=3).close()" "$PG_URL" 2>/dev/null; then
  export VOPIX_TEST_PG_URL="$PG_URL"
  passes+=(postgres)
else
  echo "== SKIPPED the PostgreSQL pass: no PostgreSQL server answers at $PG_URL"
  if [ "${VOPIX_REQUIRE_POSTGRES:-0}" = 1 ]; then echo "PostgreSQL is required here"; exit 1; fi
fi
if [ $# -eq 0 ]; then
  for pass in "${passes[@]}"; do start_pass "$pass" --ignore=tests/cluster; done
  wait
  if [[ " ${passes[*]} " == *" postgres "* ]]; then
    passes+=(cluster)
    start_pass cluster tests/cluster
    wait
  fi
else
  for pass in "${passes[@]}"; do start_pass "$pass" "$@"; done
  wait
fi
failed=0
for pass in "${passes[@]}"; do
  rc=$(cat "$RESULTS/$pass.rc" 2>/dev/null || echo 1)
  if [ "$rc" != 0 ]; then echo "== the $pass pass FAILED (exit $rc)"; failed=1; else echo "== the $pass pass is green"; fi
done
[ $failed = 0 ] || exit 1
echo "== all passes green in $(( $(date +%s) - start ))s"
