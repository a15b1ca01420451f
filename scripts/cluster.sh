#!/usr/bin/env bash
# A local cluster: VOPIX_INSTANCES instances (default 2) of VOPIX_WORKERS workers each (default 2)
# behind nginx on PORT, all on one PostgreSQL and one Redis. `make cluster` runs it.
#
#   VOPIX_DATABASE_URL   PostgreSQL (default postgresql://postgres@127.0.0.1:5432/vopix)
#   VOPIX_REDIS_URL      Redis (default redis://127.0.0.1:6379/0)
#   PORT                 the load balancer's port (default 3000); instances take PORT+1, PORT+2...
#   VOPIX_CLUSTER_RUN    where pid files, logs and nginx's files go (default ./data/cluster)
#   VOPIX_CLUSTER_SKIP_BUILD=1  reuse the frontend already built for this PORT
#   VOPIX_CLUSTER_BALANCE=backup  instances 2.. are nginx backups: everything through the
#                        balancer goes to instance 1 while it lives (fault tests know where a
#                        tab's socket is, and see it move when instance 1 dies)
#
# Each instance runs in its own process group, its group id in $RUN/instance-<n>.pgid, so a
# fault test can kill -9 one whole instance. Ctrl-C (or SIGTERM) stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
BIN="$REPO/.venv/bin"
export PATH="$REPO/toolchain/node_modules/.bin:$BIN:$PATH"
export REFLEX_USE_SYSTEM_BUN=1 REFLEX_TELEMETRY_ENABLED=false REFLEX_CHECK_LATEST_VERSION=false

PORT=${PORT:-3000}
INSTANCES=${VOPIX_INSTANCES:-2}
WORKERS=${VOPIX_WORKERS:-2}
RUN=$(realpath -m "${VOPIX_CLUSTER_RUN:-./data/cluster}")
export VOPIX_DATABASE_URL=${VOPIX_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/vopix}
export VOPIX_REDIS_URL=${VOPIX_REDIS_URL:-redis://127.0.0.1:6379/0}
export VOPIX_PUBLIC_URL=${VOPIX_PUBLIC_URL:-http://localhost:$PORT}
export VOPIX_TRUST_PROXY=${VOPIX_TRUST_PROXY:-1}  # the instances see clients through nginx
export VOPIX_BIND_HOST=${VOPIX_BIND_HOST:-127.0.0.1}

case "$VOPIX_DATABASE_URL" in
  postgres*) ;;
  *) echo "a cluster shares one PostgreSQL: VOPIX_DATABASE_URL=$VOPIX_DATABASE_URL is not one"; exit 1 ;;
esac

NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if [ ! -x "$NGINX" ]; then
  echo "== installing nginx (Debian package) for the load balancer"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null \
    || { $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null; } \
    || { echo "could not install nginx"; exit 1; }
  NGINX=/usr/sbin/nginx
fi

"$BIN/python" - <<'EOF' || exit 1
import os, sys
import psycopg, redis
url = os.environ["VOPIX_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
try:
    psycopg.connect(url, connect_timeout=3).close()
except psycopg.OperationalError as exc:
    base, _, name = url.rpartition("/")
    if f'database "{name.split("?")[0]}" does not exist' not in str(exc):
        sys.exit(f"PostgreSQL does not answer at {url.split('@')[-1]}: {exc}")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name.split("?")[0]}"')
    print(f"== created database {name}")
try:
    redis.Redis.from_url(os.environ["VOPIX_REDIS_URL"], socket_connect_timeout=3).ping()
except redis.RedisError as exc:
    sys.exit(f"Redis does not answer at {os.environ['VOPIX_REDIS_URL']}: {exc}")
EOF

mkdir -p "$RUN"
rm -f "$RUN/ready"
echo "== migrations"
"$BIN/python" -m vopix migrate

if [ "${VOPIX_CLUSTER_SKIP_BUILD:-0}" != 1 ]; then
  # Built once, for the balancer's address: the page's socket goes to PORT, never to an instance.
  echo "== building the frontend for port $PORT (once for every instance)"
  PORT=$PORT "$BIN/reflex" export --frontend-only --no-zip --env prod --loglevel warning >"$RUN/build.log" 2>&1 \
    || { tail -40 "$RUN/build.log"; echo "frontend build failed (log: $RUN/build.log)"; exit 1; }
fi

pids=()
stop_all() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop_all EXIT INT TERM

upstreams=""
for n in $(seq 1 "$INSTANCES"); do
  port=$((PORT + n))
  flag=""
  if [ "${VOPIX_CLUSTER_BALANCE:-}" = backup ] && [ "$n" -gt 1 ]; then flag=" backup"; fi
  upstreams+="        server 127.0.0.1:$port max_fails=1 fail_timeout=3s$flag;"$'\n'
  # setsid: the instance (Granian's supervisor and its workers) is one process group.
  PORT=$port setsid "$BIN/python" deploy/serve.py --port "$port" --workers "$WORKERS" \
    >"$RUN/instance-$n.log" 2>&1 &
  pids+=("$!")
  echo "$!" >"$RUN/instance-$n.pgid"
  echo "== instance $n on port $port ($WORKERS workers), log $RUN/instance-$n.log"
done

sed -e "s#@RUN@#$RUN#g" -e "s#@LISTEN@#$PORT#g" deploy/nginx.conf.template \
  | "$BIN/python" -c "import sys; sys.stdout.write(sys.stdin.read().replace('@UPSTREAMS@\n', sys.argv[1]))" "$upstreams" \
  >"$RUN/nginx.conf"
"$NGINX" -t -q -c "$RUN/nginx.conf" -p "$RUN" -e "$RUN/nginx-error.log"
setsid "$NGINX" -c "$RUN/nginx.conf" -p "$RUN" -e "$RUN/nginx-error.log" &
pids+=("$!")
echo "$!" >"$RUN/nginx.pgid"

for n in $(seq 1 "$INSTANCES"); do
  port=$((PORT + n))
  for _ in $(seq 1 120); do
    if curl -sf -o /dev/null "http://127.0.0.1:$port/healthz"; then break; fi
    if ! kill -0 "${pids[$((n - 1))]}" 2>/dev/null; then
      tail -40 "$RUN/instance-$n.log"; echo "instance $n exited"; exit 1
    fi
    sleep 1
  done
done
echo "== cluster up: $VOPIX_PUBLIC_URL ($INSTANCES instances x $WORKERS workers behind nginx)"
echo "ready" >"$RUN/ready"
# An instance may die (or be killed by a fault test): the others and nginx go on serving.
wait "${pids[-1]}" || true
echo "== nginx stopped; stopping the instances"
