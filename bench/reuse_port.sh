#!/usr/bin/env bash
# One shared listening socket against one SO_REUSEPORT socket per worker (`reuse_port`), in
# one run: shoal with 2 workers, wrk -t1 -c50 keep-alive on a 1 KiB file and on a tiny
# `return`, and connection-per-request, ROUNDS alternating rounds; prints the median req/s and
# p99 of each, and how the 50 connections were spread over the workers.
#
#   bench/reuse_port.sh [ROUNDS=5] [SECONDS=5]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
ROUNDS=${1:-5}
DURATION=${2:-5}
PORT=18140
need_tools wrk
make -s build >/dev/null
start_work_dir
head -c 1024 /dev/urandom >"$work/1k.bin"
for mode in false true; do
  cat >"$work/$mode.yaml" <<YAML
workers: 2
reuse_port: $mode
log: { error: { path: $work/error.log, level: warn }, access: { path: off } }
servers:
  - listen: 127.0.0.1:$PORT
    routes:
      - match: /tiny
        return: { status: 200, body: "ok" }
      - match: /
        static: { root: $work }
YAML
done

# "req/s p99_ms" of one wrk run.
measure() {
  wrk -t1 -c50 -d"${DURATION}s" --latency "$@" | awk '
    /Requests\/sec/ { rps = $2 }
    / 99%/ { v = $2; if (v ~ /us$/) { sub(/us/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms/, "", v) } else if (v ~ /s$/) { sub(/s/, "", v); v *= 1000 } p99 = v }
    END { print rps, p99 }'
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

declare -A RPS P99 SPREAD
for round in $(seq "$ROUNDS"); do
  for mode in false true; do
    build/shoal -c "$work/$mode.yaml" & pid=$!
    sleep 0.5
    for scenario in 1k tiny close; do
      case $scenario in
        1k) args=("http://127.0.0.1:$PORT/1k.bin") ;;
        tiny) args=("http://127.0.0.1:$PORT/tiny") ;;
        close) args=(-H "Connection: close" "http://127.0.0.1:$PORT/tiny") ;;
      esac
      if [ "$scenario" = 1k ] && [ "$round" = 1 ]; then
        (sleep $((DURATION / 2)); for w in $(pgrep -P "$pid"); do
           ls -l "/proc/$w/fd" 2>/dev/null | grep -c socket; done | tr '\n' '/' >"$work/spread-$mode") &
      fi
      read -r rps p99 < <(measure "${args[@]}")
      RPS[$mode-$scenario]+="$rps "
      P99[$mode-$scenario]+="$p99 "
    done
    kill -QUIT "$pid"; wait "$pid" 2>/dev/null || true
  done
done
echo "reuse_port false (one shared socket) vs true (one per worker), $ROUNDS rounds x ${DURATION}s, medians"
printf '%-28s %12s %10s %12s %10s\n' scenario "shared req/s" "p99 ms" "reuseport" "p99 ms"
for scenario in 1k tiny close; do
  printf '%-28s %12s %10s %12s %10s\n' "$scenario" \
    "$(tr ' ' '\n' <<<"${RPS[false-$scenario]}" | grep . | median)" \
    "$(tr ' ' '\n' <<<"${P99[false-$scenario]}" | grep . | median)" \
    "$(tr ' ' '\n' <<<"${RPS[true-$scenario]}" | grep . | median)" \
    "$(tr ' ' '\n' <<<"${P99[true-$scenario]}" | grep . | median)"
done
echo "sockets per worker during the first 1k run (connections + 3): shared $(cat "$work/spread-false"), reuse_port $(cat "$work/spread-true")"
