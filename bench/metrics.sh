#!/usr/bin/env bash
# What the metrics cost, in one run:
#  1. overhead: 1 KiB keep-alive static file, one worker pinned to CPU 1 and wrk to CPU 0,
#     `metrics: true` (scraped every second meanwhile) against `metrics: false`, in ROUNDS
#     alternating rounds: median req/s and the worker's CPU time per request of each.
#  2. scrape time: a server with 10 routes, 2 workers and every histogram filled (requests on
#     each route, helper jobs), SCRAPES scrapes with curl: median and p99 at the client, and
#     the size of the answer.
#  3. instructions per request under callgrind, on and off (CALLGRIND=0 skips it).
#
#   bench/metrics.sh [ROUNDS=5] [SECONDS=5] [SCRAPES=200]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
ROUNDS=${1:-5}
DURATION=${2:-5}
SCRAPES=${3:-200}
PORT=18160
need_tools wrk curl taskset
make -s build >/dev/null
start_work_dir
mkdir -p "$work/www"
head -c 1024 /dev/urandom >"$work/www/1k.bin"

for mode in true false; do
  cat >"$work/$mode.yaml" <<YAML
workers: 1
metrics: $mode
log: { error: { path: $work/error.log, level: warn }, access: { path: off } }
servers:
  - listen: 127.0.0.1:$PORT
    routes:
      - match: /metrics
        metrics: {}
      - match: /
        static: { root: $work/www }
YAML
done

declare -A RPS CPU
for round in $(seq "$ROUNDS"); do
  for mode in true false; do
    taskset -c 1 build/shoal -c "$work/$mode.yaml" & pid=$!
    pids+=("$pid")
    sleep 0.5
    worker=$(pgrep -P "$pid")
    scraper=""
    if [ "$mode" = true ]; then
      # The scraper stands for a Prometheus elsewhere: on wrk's CPU, not the worker's.
      (while true; do taskset -c 0 curl -s -o /dev/null "http://127.0.0.1:$PORT/metrics"; sleep 1; done) &
      scraper=$!
    fi
    read -r -a stats <<<"$(task_stats "$worker" | tr '\n' ' ')"
    ns0=$(cpu_ns "${stats[@]}")
    taskset -c 0 wrk -t1 -c50 -d"${DURATION}s" "http://127.0.0.1:$PORT/1k.bin" >"$work/wrk" 2>&1
    ns1=$(cpu_ns "${stats[@]}")
    [ -n "$scraper" ] && kill "$scraper" 2>/dev/null && wait "$scraper" 2>/dev/null || true
    read -r requests errors < <(wrk_counts "$work/wrk")
    [ "$errors" = 0 ] || echo "bench: $errors errors with metrics: $mode" >&2
    RPS[$mode]+="$(awk '/Requests\/sec/ { print $2 }' "$work/wrk") "
    CPU[$mode]+="$(awk -v n="$(( ns1 - ns0 ))" -v r="$requests" 'BEGIN { printf "%.0f", n / r }') "
    kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  done
done
on_rps=$(med "${RPS[true]}"); off_rps=$(med "${RPS[false]}")
on_cpu=$(med "${CPU[true]}"); off_cpu=$(med "${CPU[false]}")
echo "overhead: 1 KiB keep-alive, 1 worker on CPU 1, wrk -t1 -c50 on CPU 0, $ROUNDS rounds x ${DURATION}s, medians"
printf '%-26s %12s %16s\n' "" "req/s" "worker ns/req"
printf '%-26s %12s %16s\n' "metrics: true (scraped 1/s)" "$on_rps" "$on_cpu"
printf '%-26s %12s %16s\n' "metrics: false" "$off_rps" "$off_cpu"
echo "on/off: throughput $(ratio "$on_rps" "$off_rps"), CPU per request $(ratio "$on_cpu" "$off_cpu")"
echo "per round req/s, on: ${RPS[true]}/ off: ${RPS[false]}"
echo "per round ns/req, on: ${CPU[true]}/ off: ${CPU[false]}"

# 2. The scrape of a bigger server.
{
  echo "workers: 2"
  echo "helpers: { count: 2 }"
  echo "log: { error: { path: $work/error.log, level: warn }, access: { path: off } }"
  echo "servers:"
  echo "  - listen: 127.0.0.1:$PORT"
  echo "    routes:"
  echo "      - match: /metrics"
  echo "        metrics: {}"
  echo "      - match: /job"
  echo "        job: { builtin: sleep, ms: 1 }"
  for i in $(seq 1 8); do
    echo "      - match: /r$i"
    echo "        return: { status: 200, body: \"route $i\" }"
  done
} >"$work/big.yaml"
build/shoal -c "$work/big.yaml" & pid=$!
pids+=("$pid")
sleep 0.5
for i in $(seq 1 8); do wrk -t1 -c4 -d1s "http://127.0.0.1:$PORT/r$i" >/dev/null 2>&1; done
wrk -t1 -c4 -d1s "http://127.0.0.1:$PORT/job" >/dev/null 2>&1
for _ in $(seq "$SCRAPES"); do
  curl -s -o "$work/scrape" -w '%{time_total}\n' "http://127.0.0.1:$PORT/metrics"
done >"$work/times"
size=$(wc -c <"$work/scrape")
series=$(grep -vc '^#' "$work/scrape")
p50=$(sort -n "$work/times" | awk '{ v[NR] = $1 } END { printf "%.2f", v[int(NR * 0.5)] * 1000 }')
p99=$(sort -n "$work/times" | awk '{ v[NR] = $1 } END { printf "%.2f", v[int(NR * 0.99)] * 1000 }')
echo "scrape: 10 routes, 2 workers, every histogram filled: $size bytes, $series samples;" \
  "$SCRAPES scrapes with curl (new connection each): median $p50 ms, p99 $p99 ms"
kill -TERM "$pid"; wait "$pid" 2>/dev/null || true

# 3. Instructions per request, which a noisy machine does not blur: the worker under
#    callgrind, answering N and then 2N keep-alive requests for the 1 KiB file (the
#    difference removes start-up and exit), metrics on and off.
if [ "${CALLGRIND:-1}" = 1 ]; then
  need_tools valgrind
  N=${CALLGRIND_REQUESTS:-4000}
  mkdir -p "$work/cg" && chmod 1777 "$work/cg"  # the worker may run as nobody
  instructions() {  # instructions of the worker of config $1 answering $2 requests
    rm -f "$work"/cg/callgrind.out.*
    valgrind --tool=callgrind --callgrind-out-file="$work/cg/callgrind.out.%p" \
      build/shoal -c "$work/$1.yaml" >/dev/null 2>&1 & local pid=$!
    local tries=0
    until curl -s -o /dev/null "http://127.0.0.1:$PORT/1k.bin" || [ $tries -gt 100 ]; do
      sleep 0.2; tries=$((tries + 1))
    done
    python3 bench/keepalive_client.py "$PORT" "$2" /1k.bin
    kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
    local worker_file
    worker_file=$(ls "$work"/cg/callgrind.out.* | grep -v "out.$pid$" | head -1)
    awk '/^summary:/ { print $2 }' "$worker_file"
  }
  declare -A PER
  for mode in true false; do
    one=$(instructions "$mode" "$N")
    two=$(instructions "$mode" $((2 * N)))
    PER[$mode]=$(( (two - one) / N ))
  done
  echo "instructions per request (callgrind, worker only, $N vs $((2 * N)) requests):" \
    "metrics on ${PER[true]}, off ${PER[false]}:" \
    "$(awk -v a="${PER[true]}" -v b="${PER[false]}" 'BEGIN { printf "%+.1f%%", (a / b - 1) * 100 }')"
fi
