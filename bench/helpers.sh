#!/usr/bin/env bash
# Bench (not a test): does blocking work stall the event loop? In one run, measures /fast
# latency (p50, p99) and throughput with no load and while K clients loop on /slow (a 300 ms
# CPU loop), for shoal (the loop hands /slow to helper processes) and for the classic
# Node/Express example (one process: /slow blocks everything), then prints them side by side.
# Also times two concurrent /slow requests against one.
#
#   bench/helpers.sh [K=2] [SECONDS=8]      (SCHED_IDLE=false to measure nice alone)
# Then bench/balance.py: 4 and 8 simultaneous sleep jobs against 2 workers x 2 helpers.
#
# Needs wrk, node and npm (Express is installed from npm into a temporary folder).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
K=${1:-2}
SECONDS_PER_RUN=${2:-8}
SHOAL_PORT=18090
EXPRESS_PORT=18091

need_tools wrk
command -v node >/dev/null || { echo "bench: node is needed for the Express comparison" >&2; exit 1; }
make -s build >/dev/null

start_work_dir

cat > "$work/shoal.yaml" <<YAML
workers: 2
log: { error: { path: stderr, level: warn }, access: { path: off } }
helpers: { count: 2, queue: 128, timeout: 30s, nice: 10, sched_idle: ${SCHED_IDLE:-true} }
servers:
  - listen: 127.0.0.1:$SHOAL_PORT
    routes:
      - match: /fast
        return: { status: 200, body: "fast!\n" }
      - match: /slow
        job: { builtin: burn, ms: 300 }
YAML

cat > "$work/app.js" <<'JS'
// The classic example: one process, /slow spins the CPU for 300 ms and blocks every request.
const express = require('express');
const app = express();
app.get('/fast', (req, res) => res.send('fast!\n'));
app.get('/slow', (req, res) => {
  const until = Date.now() + 300;
  while (Date.now() < until) {}
  res.send('slow\n');
});
app.listen(Number(process.argv[2]), '127.0.0.1');
JS
(cd "$work" && npm install --silent --no-audit --no-fund express >/dev/null 2>&1) ||
  { echo "bench: npm install express failed" >&2; exit 1; }

./build/shoal -c "$work/shoal.yaml" 2>"$work/shoal.err" & pids+=($!)
node "$work/app.js" "$EXPRESS_PORT" & pids+=($!)
for port in $SHOAL_PORT $EXPRESS_PORT; do
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/fast" >/dev/null && break; sleep 0.1; done
done

# wrk --latency output -> "p50_ms p99_ms req_per_s"
measure() {
  wrk -t1 -c4 -d"${SECONDS_PER_RUN}s" --latency "$1" | awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    $1 == "50%" { p50 = ms($2) } $1 == "99%" { p99 = ms($2) } $1 == "Requests/sec:" { rps = $2 }
    END { printf "%.2f %.2f %.0f\n", p50, p99, rps }'
}

# Runs K clients looping on /slow for the duration of one measurement.
with_slow_load() {
  local url=$1 fast=$2
  wrk -t1 -c"$K" -d"$((SECONDS_PER_RUN + 2))s" "$url" >/dev/null 2>&1 & local load=$!
  sleep 1
  measure "$fast"
  wait "$load" || true
}

pair_time() {  # seconds for two concurrent /slow requests, and for one
  local url=$1
  local one two
  one=$( { /usr/bin/time -f %e curl -s -o /dev/null "$url"; } 2>&1 )
  two=$( { /usr/bin/time -f %e sh -c "curl -s -o /dev/null '$url' & curl -s -o /dev/null '$url'; wait"; } 2>&1 )
  echo "$one $two"
}

declare -A idle loaded pair
for name in shoal express; do
  port=$([ $name = shoal ] && echo $SHOAL_PORT || echo $EXPRESS_PORT)
  idle[$name]=$(measure "http://127.0.0.1:$port/fast")
  loaded[$name]=$(with_slow_load "http://127.0.0.1:$port/slow" "http://127.0.0.1:$port/fast")
  pair[$name]=$(pair_time "http://127.0.0.1:$port/slow")
done

echo
echo "/fast with no load and with $K clients looping on /slow (300 ms CPU); wrk -t1 -c4 -d${SECONDS_PER_RUN}s"
echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, $(node --version), shoal $(./build/shoal -V | awk 'NR == 1' | cut -d' ' -f2)"
echo
printf "| %-8s | %-13s | %-13s | %-11s | %-14s | %-14s | %-12s | %-10s | %-14s |\n" \
  server "idle p50 ms" "idle p99 ms" "idle req/s" "loaded p50 ms" "loaded p99 ms" "loaded req/s" \
  "p99 ratio" "1 vs 2 /slow s"
printf "|%s|\n" "----------|---------------|---------------|-------------|----------------|----------------|--------------|------------|----------------"
for name in shoal express; do
  read -r ip50 ip99 irps <<<"${idle[$name]}"
  read -r lp50 lp99 lrps <<<"${loaded[$name]}"
  read -r one two <<<"${pair[$name]}"
  ratio=$(awk -v a="$lp99" -v b="$ip99" 'BEGIN { printf "%.1fx", (b > 0 ? a / b : 0) }')
  printf "| %-8s | %13s | %13s | %11s | %14s | %14s | %12s | %10s | %14s |\n" \
    "$name" "$ip50" "$ip99" "$irps" "$lp50" "$lp99" "$lrps" "$ratio" "$one vs $two"
done

# Balance (issue 15): simultaneous jobs against every helper of the generation, wherever
# their connections landed. BALANCE_ROUNDS=0 skips it.
if [ "${BALANCE_ROUNDS:-20}" -gt 0 ]; then
  echo
  python3 bench/balance.py "${BALANCE_ROUNDS:-20}" ./build/shoal
fi
