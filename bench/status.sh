#!/usr/bin/env bash
# What the status page costs, in one run: the page's size, the JSON's size, and the server
# CPU time per call of the JSON (what a poll costs the worker that answers it), beside a
# Prometheus scrape of the same server, a fixed `return` response, and nginx's stub_status
# (its seven-line status) on an nginx with the same number of workers. The servers run on the
# last CPU and wrk on CPU 0; each path gets ROUNDS rounds of wrk -t1 -c20 for SECONDS, and the
# server's whole process tree is measured (/proc/PID/task/*/schedstat), medians. (At -c1 the
# figure is mostly the cost of waking the worker for every request, the same for any path.)
#
#   bench/status.sh [ROUNDS=5] [SECONDS=3]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
ROUNDS=${1:-5}
DURATION=${2:-3}
declare -A PORT=([shoal]=18170 [nginx]=18171)
SERVERS=(shoal nginx)
need_tools wrk curl nginx taskset
make -s build >/dev/null
start_work_dir

# Ten routes and two workers with a generation's worth of series, as a small real site.
routes=""
for i in $(seq 10); do
  routes+="      - match: /r$i
        return: { status: 200, body: \"r$i\" }
"
done
cat >"$work/shoal.yaml" <<YAML
workers: 2
log: { error: { path: $work/error.log, level: warn }, access: { path: off } }
servers:
  - listen: 127.0.0.1:${PORT[shoal]}
    routes:
$routes      - match: /status
        status: {}
      - match: /metrics
        metrics: {}
      - match: /fast
        return: { status: 200, body: "fast!\n" }
YAML
cat >"$work/nginx.conf" <<CONF
$( [ "$(id -u)" = 0 ] && echo "user root;" )
worker_processes 2;
error_log $work/nginx-error.log;
pid $work/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:${PORT[nginx]};
    location = /nginx_status { stub_status; }
    location = /fast { return 200 "fast!\n"; }
  }
}
CONF
./build/shoal -c "$work/shoal.yaml" & pids+=($!)
nginx -p "$work/" -c "$work/nginx.conf" -g 'daemon off;' & pids+=($!)
for s in "${SERVERS[@]}"; do
  for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:${PORT[$s]}/fast" && break; sleep 0.1; done
done
sleep 3  # the master's first samples, so the JSON carries a history
last_cpu=$(( $(nproc) - 1 ))
for s in "${SERVERS[@]}"; do pin_server "$s" "$last_cpu"; done
taskset -p -c 0 $$ >/dev/null
for i in $(seq 10); do curl -s -o /dev/null "http://127.0.0.1:${PORT[shoal]}/r$i"; done

declare -A US RPS
measure() {  # measure SERVER PATH: "us-per-request req/s"
  local s=$1 path=$2 stats ns0 ns1
  read -r -a stats <<<"$(task_stats "$(server_pid "$s")" | tr '\n' ' ')"
  ns0=$(cpu_ns "${stats[@]}")
  wrk -t1 -c20 -d"${DURATION}s" "http://127.0.0.1:${PORT[$s]}$path" >"$work/wrk" 2>&1
  ns1=$(cpu_ns "${stats[@]}")
  read -r requests errors < <(wrk_counts "$work/wrk")
  [ "$errors" = 0 ] || echo "bench: $errors errors on $s $path" >&2
  awk -v ns=$((ns1 - ns0)) -v n="$requests" -v d="$DURATION" \
    'BEGIN { printf "%.2f %.0f\n", (n > 0 ? ns / 1000 / n : 0), n / d }'
}
# A page's first poll carries five minutes of history (here what the run has); each later one
# asks ?since= its newest point and gets a second's worth.
since=$(( $(date +%s%3N) - 1000 ))
CASES=("shoal /status?format=json" "shoal /status?format=json&since=$since" "shoal /metrics" "shoal /fast" "nginx /nginx_status" "nginx /fast")
for round in $(seq "$ROUNDS"); do
  for c in "${CASES[@]}"; do
    read -r us rps <<<"$(measure $c)"
    US[$c]+="$us "; RPS[$c]+="$rps "
  done
done

size() { curl -s "http://127.0.0.1:${PORT[$1]}$2" | wc -c; }
page=$(size shoal /status)
page_gz=$(curl -s "http://127.0.0.1:${PORT[shoal]}/status" | gzip -9 | wc -c)
json=$(size shoal "/status?format=json")
metrics=$(size shoal /metrics)
stub=$(size nginx /nginx_status)
echo "## $(date -u +%Y-%m-%d): what the status page costs (\`bench/status.sh $ROUNDS $DURATION\`)"
echo
echo "2 workers on CPU $last_cpu, wrk -t1 -c20 on CPU 0, ${DURATION}s per round, $ROUNDS rounds, medians;"
echo "server CPU per call is every process of the server (schedstat), so it includes the"
echo "read, parse and write of each request as well as building the answer."
echo
echo "| path | bytes | server CPU us per call | calls/s |"
echo "|---|---|---|---|"
for c in "${CASES[@]}"; do
  read -r s path <<<"$c"
  case "$path" in
    *since*) b=$(size shoal "/status?format=json&since=$(( $(date +%s%3N) - 1000 ))") ;;
    /status*) b=$json ;; /metrics) b=$metrics ;; /nginx_status) b=$stub ;; *) b=6 ;;
  esac
  printf "| %s %s | %s | %s | %s |\n" "$s" "$path" "$b" "$(med "${US[$c]}")" "$(med "${RPS[$c]}")"
done
echo
status_us=$(med "${US[shoal /status?format=json&since=$since]}")
first_us=$(med "${US[shoal /status?format=json]}")
fast_us=$(med "${US[shoal /fast]}")
stub_us=$(med "${US[nginx /nginx_status]}")
nfast_us=$(med "${US[nginx /fast]}")
echo "The page: $page bytes once ($page_gz gzipped; shoal does not compress). Building the JSON:"
awk -v a="$status_us" -v f="$first_us" -v b="$fast_us" -v c="$stub_us" -v d="$nfast_us" 'BEGIN {
  printf "%.1f us above a fixed response for a poll (%.1f us for a first poll, with the whole\n", a - b, f - b
  printf "history); nginx stub_status: %.1f us above its fixed response. A page open on one\n", c - d
  printf "screen costs one poll a second.\n" }'
