#!/usr/bin/env bash
# Instructions per request, which a noisy machine does not blur: one worker under callgrind
# answering N and then 2N keep-alive requests (the difference removes start-up and exit), for
# a 1 KiB static file and a tiny `return` response, metrics on (the default). Compare two
# binaries of the same run: SHOAL_BIN (default build/shoal) and, if set, BASE_BIN.
#
#   bench/instructions.sh [N=4000]
#   BASE_BIN=/tmp/shoal-before bench/instructions.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
N=${1:-4000}
PORT=18170
need_tools valgrind python3 curl
make -s build >/dev/null
SHOAL_BIN=${SHOAL_BIN:-./build/shoal}
start_work_dir
mkdir -p "$work/www" "$work/cg" && chmod 1777 "$work/cg"  # the worker may run as nobody
head -c 1024 /dev/urandom >"$work/www/1k.bin"
cat >"$work/shoal.yaml" <<YAML
workers: 1
log: { error: { path: $work/error.log, level: warn }, access: { path: off } }
servers:
  - listen: 127.0.0.1:$PORT
    routes:
      - match: /tiny
        return: { status: 200, body: "ok\n" }
      - match: /
        static: { root: $work/www }
YAML
instructions() {  # the worker's instructions for $3 requests of $2, binary $1
  rm -f "$work"/cg/callgrind.out.*
  valgrind --tool=callgrind --callgrind-out-file="$work/cg/callgrind.out.%p" \
    "$1" -c "$work/shoal.yaml" >/dev/null 2>&1 & local pid=$!
  local tries=0
  until curl -s -o /dev/null "http://127.0.0.1:$PORT/tiny" || [ $tries -gt 100 ]; do
    sleep 0.2; tries=$((tries + 1))
  done
  python3 bench/keepalive_client.py "$PORT" "$3" "$2"
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  local worker_file
  worker_file=$(ls "$work"/cg/callgrind.out.* | grep -v "out.$pid$" | head -1)
  awk '/^summary:/ { print $2 }' "$worker_file"
}
per_request() {  # binary path
  local one two
  one=$(instructions "$1" "$2" "$N")
  two=$(instructions "$1" "$2" $((2 * N)))
  echo $(((two - one) / N))
}
for path in /1k.bin /tiny; do
  new=$(per_request "$SHOAL_BIN" "$path")
  if [ -n "${BASE_BIN:-}" ]; then
    base=$(per_request "$BASE_BIN" "$path")
    echo "instructions per request, $path (callgrind, worker only, $N vs $((2 * N))):" \
      "before $base, after $new:" \
      "$(awk -v a="$new" -v b="$base" 'BEGIN { printf "%+.1f%%", (a / b - 1) * 100 }')"
  else
    echo "instructions per request, $path (callgrind, worker only, $N vs $((2 * N))): $new"
  fi
done
