#!/usr/bin/env bash
# Run a command with the services the tests need, started here when not given:
#  - PostgreSQL: DATABASE_URL if set, else the embedded server the test fixtures start themselves;
#  - Redis (multi-process Socket.IO tests): REDIS_URL if set, else a redis-server on a free port.
# A service that cannot start fails the run loudly: a skipped test is not a pass.
set -euo pipefail
cleanup() { [ -n "${REDIS_PID:-}" ] && kill "$REDIS_PID" 2>/dev/null || true; }
trap cleanup EXIT

if [ -z "${REDIS_URL:-}" ]; then
  if ! command -v redis-server >/dev/null 2>&1; then
    echo "redis-server not found; installing Debian's redis-server" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server) >&2
  fi
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --daemonize no >/dev/null &
  REDIS_PID=$!
  for _ in $(seq 50); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  redis-cli -p "$port" ping >/dev/null || { echo "FATAL: redis-server did not start" >&2; exit 1; }
  export REDIS_URL="redis://127.0.0.1:$port/0"
fi
export TEST_REDIS_URL="$REDIS_URL"
unset REDIS_URL  # the single-process tests run without Redis; the multi-process ones use TEST_REDIS_URL
"$@"
