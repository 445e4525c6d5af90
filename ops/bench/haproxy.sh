#!/usr/bin/env bash
# Messages/s and latency through HAProxy (ops/haproxy/haproxy.cfg as shipped) with one or two
# instances of the release binary on one PostgreSQL and one Redis, the load simulator as the
# client (BENCHMARKS.md). With one instance both of HAProxy's servers name it; `direct` runs one
# instance with no balancer, for the balancer's cost.
#
# Needs PostgreSQL at 127.0.0.1:5432 (trust auth, user postgres), Redis at 127.0.0.1:6379,
# haproxy, curl, and `cargo build --release`.
# Usage: ops/bench/haproxy.sh 1|2|direct [cbln simulate options…]
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${CBLN_BIN:-${CARGO_TARGET_DIR:-target}/release/cbln}
MODE=${1:?usage: ops/bench/haproxy.sh 1|2|direct [simulate options]}
shift
case "$MODE" in 1|2) INSTANCES=$MODE ;; direct) INSTANCES=1 ;; *) echo "1, 2 or direct" >&2; exit 2 ;; esac
BASE_PORT=${BASE_PORT:-18100}
[ -x "$BIN" ] || { echo "build the release binary first: cargo build --release" >&2; exit 1; }
command -v haproxy >/dev/null || { echo "install haproxy: apt-get install -y haproxy" >&2; exit 1; }

work=$(mktemp -d)
database="cbln_haproxy_$$"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $database" >/dev/null
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$database"
export REDIS_URL=redis://127.0.0.1:6379
ENCRYPTION_KEY=$("$BIN" keys generate) SECRET_KEY=$("$BIN" keys generate)
export ENCRYPTION_KEY SECRET_KEY
export CBLN__RATE_LIMIT__ENABLED=false CBLN__SERVER__TRUSTED_PROXIES='["127.0.0.1"]'
export CBLN__LOG__LEVEL=error
for n in $(seq 1 "$INSTANCES"); do
  PORT=$((BASE_PORT + n)) "$BIN" serve >"$work/cbln-$n.log" 2>&1 &
  pids+=($!)
  until curl -sf "http://127.0.0.1:$((BASE_PORT + n))/health/ready" >/dev/null; do sleep 0.1; done
done
if [ "$MODE" = direct ]; then
  "$BIN" simulate --url "http://127.0.0.1:$((BASE_PORT + 1))" "$@"
  exit
fi
second=$((BASE_PORT + INSTANCES))
CBLN_HAPROXY_BIND=127.0.0.1:$BASE_PORT CBLN_HAPROXY_STATS=127.0.0.1:$((BASE_PORT + 50)) \
  CBLN_INSTANCE_1=127.0.0.1:$((BASE_PORT + 1)) CBLN_INSTANCE_2=127.0.0.1:$second \
  haproxy -db -f ops/haproxy/haproxy.cfg >/dev/null 2>&1 &
pids+=($!)
until curl -sf "http://127.0.0.1:$BASE_PORT/health/ready" >/dev/null; do sleep 0.1; done
sleep 2 # both servers through their first health checks

"$BIN" simulate --url "http://127.0.0.1:$BASE_PORT" "$@"
