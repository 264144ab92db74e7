#!/usr/bin/env bash
# `make run` on an installed checkout: seconds from the command to the first 200 on /login,
# against a baseline measured in the same run (start-up alone: the app object built).
# The first call installs, migrates and builds the demo if needed; the figure is the
# second. Usage: bench/make_run_start.sh [PORT]   (stops the server it started)
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${1:-5099}"

serve_once() {
  local start end pid
  start=$(date +%s.%N)
  setsid make run PORT="$PORT" >/dev/null 2>&1 &
  pid=$!
  until curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/login" 2>/dev/null | grep -q 200; do
    kill -0 "$pid" 2>/dev/null || { echo "make run failed" >&2; exit 1; }
    sleep 0.05
  done
  end=$(date +%s.%N)
  kill -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "$end - $start" | bc
}

serve_once >/dev/null  # install / migrate / demo when needed
second=$(serve_once)
start=$(date +%s.%N)
.venv/bin/python -c "from fieldapp import create_app; create_app()"
baseline=$(echo "$(date +%s.%N) - $start" | bc)
echo "make run (installed, nothing changed): ${second} s to serve (budget 5 s); app start-up alone ${baseline} s (baseline 1.0): x$(echo "scale=2; $second / $baseline" | bc)"
