#!/usr/bin/env bash
# shoal against nginx and h2o on this machine, in one run (`make bench`). Installs wrk, nginx
# and h2o with apt if missing, builds shoal Release, starts the three with equivalent setups
# (2 workers or threads, the same files, access log off, keep-alive on) on loopback, runs
# every scenario for every server in alternation ROUNDS times, and prints medians and the
# ratios shoal/nginx and shoal/h2o. Appends the table to bench/RESULTS.md with RECORD=1, and
# draws bench/throughput.svg, cpu.svg and latency.svg (bench/charts.sh, gnuplot) every run.
#
#   bench/run.sh [ROUNDS=5] [SECONDS=4]
#   SERVE=1 bench/run.sh     only start the three servers (same files and setup) and wait
#   SHOAL_BIN=PATH bench/run.sh   measure another shoal binary (an earlier commit's, to compare)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
ROUNDS=${1:-5}
DURATION=${2:-4}
IDLE_CONNECTIONS=${IDLE_CONNECTIONS:-10000}
IDLE_SETTLE=${IDLE_SETTLE:-2.5}  # seconds the idle connections idle before they are measured
declare -A PORT=([shoal]=18100 [nginx]=18101 [h2o]=18102)
SERVERS=(shoal nginx h2o)

need_tools wrk nginx h2o python3 gnuplot
make -s build >/dev/null
SHOAL_BIN=${SHOAL_BIN:-./build/shoal}
cmake --build build --target openloop >/dev/null
ulimit -n 20000 2>/dev/null || true

start_work_dir
mkdir -p "$work/www"
head -c 1024 /dev/urandom >"$work/www/1k.bin"
head -c 65536 /dev/urandom >"$work/www/64k.bin"
head -c 1048576 /dev/urandom >"$work/www/1m.bin"

cat >"$work/shoal.yaml" <<YAML
workers: 2
log: { error: { path: $work/shoal-error.log, level: warn }, access: { path: off } }
limits: { max_connections: 20000 }
helpers: { count: 2 }
servers:
  - listen: 127.0.0.1:${PORT[shoal]}
    routes:
      - match: /tiny
        return: { status: 200, body: "ok" }
      - match: /fast
        return: { status: 200, body: "fast!\n" }
      - match: /slow
        job: { builtin: burn, ms: 300 }
      - match: /
        static: { root: $work/www }
YAML

cat >"$work/nginx.conf" <<CONF
$( [ "$(id -u)" = 0 ] && echo "user root;" )
worker_processes 2;
worker_rlimit_nofile 20000;
error_log $work/nginx-error.log;
pid $work/nginx.pid;
events { worker_connections 20000; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  default_type application/octet-stream;
  keepalive_requests 1000000;
  server {
    # deferred: TCP_DEFER_ACCEPT, which shoal (defer_accept) and h2o use by default.
    listen 127.0.0.1:${PORT[nginx]} deferred;
    root $work/www;
    location = /tiny { return 200 "ok"; }
  }
}
CONF

cat >"$work/h2o.conf" <<CONF
$( [ "$(id -u)" = 0 ] && echo "user: root" )
num-threads: 2
max-connections: 20000
http1-request-timeout: 120
error-log: $work/h2o-error.log
pid-file: $work/h2o.pid
listen:
  host: 127.0.0.1
  port: ${PORT[h2o]}
hosts:
  default:
    paths:
      /:
        file.dir: $work/www
CONF

"$SHOAL_BIN" -c "$work/shoal.yaml" & pids+=($!)
nginx -p "$work/" -c "$work/nginx.conf" -g 'daemon off;' & pids+=($!)
h2o -c "$work/h2o.conf" >"$work/h2o.out" 2>&1 & pids+=($!)
for s in "${SERVERS[@]}"; do
  for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:${PORT[$s]}/1k.bin" && break; sleep 0.1; done
done
if [ "${SERVE:-0}" = 1 ]; then  # keep the three up for measuring by hand; Ctrl-C stops them
  echo "serving $work/www: shoal :${PORT[shoal]}, nginx :${PORT[nginx]}, h2o :${PORT[h2o]} (pids ${pids[*]})"
  wait
fi


declare -A RPS P99 ERR
scenario() {  # name path servers wrk-args...
  local name=$1 path=$2 servers=$3
  shift 3
  for round in $(seq "$ROUNDS"); do
    for s in $servers; do
      read -r rps p99 errors <<<"$(wrk_run "$@" "http://127.0.0.1:${PORT[$s]}$path")"
      RPS[$name,$s]+="$rps "
      P99[$name,$s]+="$p99 "
      ERR[$name,$s]=$(( ${ERR[$name,$s]:-0} + errors ))
    done
  done
}

all="shoal nginx h2o"
scenario "1 KiB file, -c50" /1k.bin "$all" -t1 -c50 -d"${DURATION}s"
scenario "tiny response, -c50" /tiny "shoal nginx" -t1 -c50 -d"${DURATION}s"
scenario "64 KiB file, -c50" /64k.bin "$all" -t1 -c50 -d"${DURATION}s"
scenario "1 MiB file, -c50" /1m.bin "$all" -t1 -c50 -d"${DURATION}s"
scenario "1 KiB file, -c1000" /1k.bin "$all" -t2 -c1000 -d"${DURATION}s"
scenario "new connection per request" /1k.bin "$all" -t1 -c50 -d"${DURATION}s" -H "Connection: close"

# Tails and CPU cost at the same offered load (bench/openloop.cpp): wrk's closed loop gives a
# faster server more load and so a longer tail, and on two CPUs it is wrk that saturates;
# here every server gets the same requests per second, at 50% and 90% of nginx's 1 KiB median
# above, over 50 connections. Latency counts from when a request was due ("p50 p99 p99.9" in
# microseconds); CPU is the time all the server's processes and threads ran, to the
# nanosecond (/proc/PID/task/*/schedstat; utime and stime are sampled at clock ticks, too
# coarse to tell a few percent), per request. Medians over the rounds.
hz=$(getconf CLK_TCK)
# open_measure SERVER PATH RATE [CPU]: openloop against SERVER, printing
# "sent p50 p99 p99.9 errors server-us-per-request [CPU-busy-us-per-request]", both CPU
# figures over the requests counted (openloop's first second is a warm-up it does not count).
open_measure() {
  local s=$1 path=$2 rate=$3 cpu=${4:-} stats ns0 ns1 busy0=0 busy1=0
  # Listed before the load starts: sampling in the measured window costs one awk, no pgrep.
  read -r -a stats <<<"$(task_stats "$(server_pid "$s")" | tr '\n' ' ')"
  ./build/openloop "${PORT[$s]}" "$path" "$rate" 50 $((DURATION + 1)) >"$work/openloop.out" &
  local loader=$!
  sleep 1
  ns0=$(cpu_ns "${stats[@]}"); [ -n "$cpu" ] && busy0=$(cpu_busy "$cpu")
  wait "$loader"
  ns1=$(cpu_ns "${stats[@]}"); [ -n "$cpu" ] && busy1=$(cpu_busy "$cpu")
  local sent p50 p99 p999 errors
  read -r sent _ p50 p99 p999 _ errors <"$work/openloop.out"
  awk -v n="$sent" -v a="$p50" -v b="$p99" -v c="$p999" -v e="$errors" -v ns=$((ns1 - ns0)) \
      -v busy=$((busy1 - busy0)) -v hz="$hz" -v cpu="$cpu" 'BEGIN {
    printf "%d %s %s %s %d %.2f", n, a, b, c, e, (n > 0 ? ns / 1000 / n : 0)
    if (cpu != "") printf " %.2f", (n > 0 ? busy * 1e6 / hz / n : 0)
    printf "\n" }'
}
nginx_1k=$(med "${RPS[1 KiB file, -c50,nginx]}")
declare -A OPEN
OPEN_RATES=()
for percent in 50 90; do
  rate=$(awk -v r="$nginx_1k" -v p="$percent" 'BEGIN { printf "%d", r * p / 100 }')
  OPEN_RATES+=("$rate")
  for round in $(seq "$ROUNDS"); do
    for s in $all; do
      read -r sent p50 p99 p999 errors cpu <<<"$(open_measure "$s" /1k.bin "$rate")"
      OPEN[$rate,$s,p50]+="$p50 "; OPEN[$rate,$s,p99]+="$p99 "; OPEN[$rate,$s,p999]+="$p999 "
      OPEN[$rate,$s,cpu]+="$cpu "
      ERR[open,$s]=$(( ${ERR[open,$s]:-0} + errors ))
    done
  done
done

# Isolated CPUs: the servers on the last CPU, wrk and openloop on CPU 0. Above, the load
# generator and the two workers share two CPUs, so a closed-loop number mostly says how the
# scheduler placed them (one worker beside wrk: ~10% less for every server; see src/DESIGN.md).
# Here nothing competes with the load generator. Closed loop gives req/s with the server
# CPU's idle share (0% = the server is the limit, more = wrk is). Fixed load gives the
# server's run time per request (schedstat, precise; the inverse ratio is the capacity ratio)
# and the server CPU's whole busy time per request from /proc/stat (adds the irq and softirq
# time, the TCP work done on the server's CPU that a thread's run time leaves out, but is
# sampled at clock ticks: +-5% in a 4 s round). Servers keep 2 workers or threads, both on
# the one CPU.
last_cpu=$(( $(nproc) - 1 ))
cpu_idle() { awk -v c="cpu$1" '$1 == c { print $5 }' /proc/stat; }
declare -A ISO_RPS ISO_P99 ISO_IDLE ISO_CPU ISO_BUSY ISO_OP99
ISO_SCENARIOS=("1 KiB file" "tiny response" "1 MiB file")
declare -A ISO_PATH=([1 KiB file]=/1k.bin [tiny response]=/tiny [1 MiB file]=/1m.bin)
declare -A ISO_SERVERS=([1 KiB file]="$all" [tiny response]="shoal nginx" [1 MiB file]="$all")
if [ "$last_cpu" -ge 1 ]; then
  for s in "${SERVERS[@]}"; do pin_server "$s" "$last_cpu"; done
  taskset -p -c 0 $$ >/dev/null  # this shell, so wrk, openloop and every sampling tool
  for name in "${ISO_SCENARIOS[@]}"; do
    for round in $(seq "$ROUNDS"); do
      for s in ${ISO_SERVERS[$name]}; do
        b=$(cpu_busy "$last_cpu"); i=$(cpu_idle "$last_cpu")
        read -r rps p99 errors <<<"$(wrk_run -t1 -c50 -d"${DURATION}s" "http://127.0.0.1:${PORT[$s]}${ISO_PATH[$name]}")"
        b2=$(cpu_busy "$last_cpu"); i2=$(cpu_idle "$last_cpu")
        ISO_RPS[$name,$s]+="$rps "; ISO_P99[$name,$s]+="$p99 "
        ISO_IDLE[$name,$s]+="$(awk -v i=$((i2 - i)) -v b=$((b2 - b)) 'BEGIN { printf "%.0f", (i + b > 0) ? 100 * i / (i + b) : 0 }') "
        ERR[iso,$s]=$(( ${ERR[iso,$s]:-0} + errors ))
      done
    done
  done
  # Fixed loads: 60% of nginx's closed-loop 1 KiB rate above for 1 KiB and tiny, 30% of its
  # 1 MiB rate for 1 MiB (openloop reads 64 KiB per connection per turn, so from about 1,500
  # MiB/s its own round-robin sets the tail: 57 ms p99 for shoal and nginx alike at 2,000/s).
  declare -A ISO_LOAD
  load_at() {  # load_at SCENARIO FRACTION: that fraction of nginx's median rate above
    med "${ISO_RPS[$1,nginx]}" |
      awk -v f="$2" '{ printf "%d", $1 * f }'
  }
  ISO_LOAD[1 KiB file]=$(load_at "1 KiB file" 0.6)
  ISO_LOAD[tiny response]=${ISO_LOAD[1 KiB file]}
  ISO_LOAD[1 MiB file]=$(load_at "1 MiB file" 0.3)
  for name in "${ISO_SCENARIOS[@]}"; do
    for round in $(seq "$ROUNDS"); do
      for s in ${ISO_SERVERS[$name]}; do
        read -r _ _ p99 _ errors cpu busy <<<"$(open_measure "$s" "${ISO_PATH[$name]}" "${ISO_LOAD[$name]}" "$last_cpu")"
        ISO_CPU[$name,$s]+="$cpu "; ISO_BUSY[$name,$s]+="$busy "
        ISO_OP99[$name,$s]+="$p99 "
        ERR[iso,$s]=$(( ${ERR[iso,$s]:-0} + errors ))
      done
    done
  done
  for s in "${SERVERS[@]}"; do pin_server "$s" "0-$last_cpu"; done
  taskset -p -c "0-$last_cpu" $$ >/dev/null
fi

# Scenario 6: memory per idle keep-alive connection (PSS of every process of the server).
declare -A IDLE
for s in "${SERVERS[@]}"; do
  pid=$(server_pid "$s")
  before=$(pss_kb "$pid")
  coproc HOLD { python3 bench/idle_connections.py 127.0.0.1 "${PORT[$s]}" "$IDLE_CONNECTIONS" /1k.bin; }
  read -r ready n <&"${HOLD[0]}" || true
  if [ "${ready:-}" = ready ]; then
    sleep "$IDLE_SETTLE"  # the connections idle (shoal parks a connection idle for 1 s)
    after=$(pss_kb "$pid")
    IDLE[$s]=$(( (after - before) * 1024 / IDLE_CONNECTIONS ))
  else
    IDLE[$s]="failed"
  fi
  exec {HOLD[1]}>&-
  wait "$HOLD_PID" 2>/dev/null || true
  sleep 1
done

# Scenario 7: /fast p99 while 2 clients loop on /slow (helpers; shoal only).
wrk -t1 -c2 -d"$((DURATION + 2))s" "http://127.0.0.1:${PORT[shoal]}/slow" >/dev/null 2>&1 &
load=$!
sleep 1
read -r fast_rps fast_p99 fast_err <<<"$(wrk_run -t1 -c4 -d"${DURATION}s" "http://127.0.0.1:${PORT[shoal]}/fast")"
wait $load || true

# A first request in two writes from a client with Nagle on (see bench/split_request.py).
declare -A SPLIT
for s in "${SERVERS[@]}"; do SPLIT[$s]=$(python3 bench/split_request.py "${PORT[$s]}" 20); done

table() {
  echo "| scenario | shoal req/s | nginx req/s | h2o req/s | shoal/nginx | shoal/h2o | p99 ms shoal / nginx / h2o | errors shoal / nginx / h2o |"
  echo "|---|---|---|---|---|---|---|---|"
  for name in "1 KiB file, -c50" "tiny response, -c50" "64 KiB file, -c50" "1 MiB file, -c50" \
              "1 KiB file, -c1000" "new connection per request"; do
    local r=() p=() e=()
    for s in "${SERVERS[@]}"; do
      if [ -n "${RPS[$name,$s]:-}" ]; then
        r+=("$(med "${RPS[$name,$s]}")")
        p+=("$(med "${P99[$name,$s]}")")
        e+=("${ERR[$name,$s]}")
      else
        r+=(""); p+=("-"); e+=("-")
      fi
    done
    printf "| %s | %s | %s | %s | %s | %s | %s / %s / %s | %s / %s / %s |\n" "$name" \
      "${r[0]}" "${r[1]}" "${r[2]:--}" "$(ratio "${r[0]}" "${r[1]}")" "$(ratio "${r[0]}" "${r[2]}")" \
      "${p[0]}" "${p[1]}" "${p[2]}" "${e[0]}" "${e[1]}" "${e[2]}"
  done
  echo
  echo "| 1 KiB at a fixed rate, 50 connections | p50 / p99 / p99.9 us shoal | nginx | h2o | server CPU us per request shoal / nginx / h2o | CPU shoal/nginx | CPU shoal/h2o |"
  echo "|---|---|---|---|---|---|---|"
  for rate in "${OPEN_RATES[@]}"; do
    local cells=() cpu=()
    for s in "${SERVERS[@]}"; do
      local q=()
      for k in p50 p99 p999; do q+=("$(med "${OPEN[$rate,$s,$k]}")"); done
      cells+=("${q[0]} / ${q[1]} / ${q[2]}")
      cpu+=("$(med "${OPEN[$rate,$s,cpu]}")")
    done
    printf "| %s req/s | %s | %s | %s | %s / %s / %s | %s | %s |\n" "$rate" "${cells[0]}" "${cells[1]}" \
      "${cells[2]}" "${cpu[0]}" "${cpu[1]}" "${cpu[2]}" "$(ratio "${cpu[0]}" "${cpu[1]}")" \
      "$(ratio "${cpu[0]}" "${cpu[2]}")"
  done
  echo "(errors: shoal ${ERR[open,shoal]:-0}, nginx ${ERR[open,nginx]:-0}, h2o ${ERR[open,h2o]:-0})"
  echo
  if [ -n "${ISO_LOAD[1 KiB file]:-}" ]; then
    echo "| isolated CPUs: servers on CPU $last_cpu, wrk on CPU 0 | shoal req/s | nginx req/s | h2o req/s | shoal/nginx | shoal/h2o | p99 ms shoal / nginx / h2o | server CPU idle % shoal / nginx / h2o |"
    echo "|---|---|---|---|---|---|---|---|"
    for name in "${ISO_SCENARIOS[@]}"; do
      local r=() p=() i=()
      for s in "${SERVERS[@]}"; do
        if [ -n "${ISO_RPS[$name,$s]:-}" ]; then
          r+=("$(med "${ISO_RPS[$name,$s]}")"); p+=("$(med "${ISO_P99[$name,$s]}")"); i+=("$(med "${ISO_IDLE[$name,$s]}")")
        else
          r+=(""); p+=("-"); i+=("-")
        fi
      done
      printf "| %s, -c50 | %s | %s | %s | %s | %s | %s / %s / %s | %s / %s / %s |\n" "$name" \
        "${r[0]}" "${r[1]}" "${r[2]:--}" "$(ratio "${r[0]}" "${r[1]}")" "$(ratio "${r[0]}" "${r[2]}")" \
        "${p[0]}" "${p[1]}" "${p[2]}" "${i[0]}" "${i[1]}" "${i[2]}"
    done
    echo
    echo "| isolated CPUs, fixed load, 50 connections | server us per request shoal / nginx / h2o | capacity shoal/nginx | capacity shoal/h2o | CPU busy us per request shoal / nginx / h2o | p99 us shoal / nginx / h2o |"
    echo "|---|---|---|---|---|---|"
    for name in "${ISO_SCENARIOS[@]}"; do
      local c=() b=() q=()
      for s in "${SERVERS[@]}"; do
        if [ -n "${ISO_CPU[$name,$s]:-}" ]; then
          c+=("$(med "${ISO_CPU[$name,$s]}")"); b+=("$(med "${ISO_BUSY[$name,$s]}")")
          q+=("$(med "${ISO_OP99[$name,$s]}")")
        else
          c+=(""); b+=("-"); q+=("-")
        fi
      done
      printf "| %s, %s req/s | %s / %s / %s | %s | %s | %s / %s / %s | %s / %s / %s |\n" "$name" "${ISO_LOAD[$name]}" "${c[0]}" "${c[1]}" \
        "${c[2]:--}" "$(ratio "${c[1]}" "${c[0]}")" "$(ratio "${c[2]}" "${c[0]}")" "${b[0]}" "${b[1]}" "${b[2]}" \
        "${q[0]}" "${q[1]}" "${q[2]}"
    done
    echo "(errors: shoal ${ERR[iso,shoal]:-0}, nginx ${ERR[iso,nginx]:-0}, h2o ${ERR[iso,h2o]:-0}; capacity = the inverse ratio of the server's time per request)"
    echo
  fi
  echo "| idle keep-alive connections ($IDLE_CONNECTIONS) | shoal | nginx | h2o |"
  echo "|---|---|---|---|"
  echo "| bytes of PSS per connection | ${IDLE[shoal]} | ${IDLE[nginx]} | ${IDLE[h2o]} |"
  echo
  echo "/fast while 2 clients loop on /slow (shoal, helpers): ${fast_rps} req/s, p99 ${fast_p99} ms, ${fast_err} errors"
  echo
  echo "First request in two writes, Nagle on (bench/split_request.py): shoal ${SPLIT[shoal]}; nginx ${SPLIT[nginx]}; h2o ${SPLIT[h2o]}"
}

# The charts' data (bench/charts.sh draws them beside RESULTS.md): medians, "-" where a
# server was not measured.
charts() {
  local dir=$work/charts name s v
  mkdir -p "$dir"
  row() {  # row LABEL ARRAY-NAME KEY-PREFIX KEY-SUFFIX
    local -n values=$2
    printf '%s' "$1"
    for s in "${SERVERS[@]}"; do
      v=${values[$3$s$4]:-}
      printf '\t%s' "$( [ -n "$v" ] && med "$v" || echo -)"
    done
    echo
  }
  {
    printf 'scenario\tshoal\tnginx\th2o\n'
    local -A short=([1 KiB file, -c50]="1 KiB -c50" [tiny response, -c50]="tiny -c50"
      [64 KiB file, -c50]="64 KiB -c50" [1 MiB file, -c50]="1 MiB -c50"
      [1 KiB file, -c1000]="1 KiB -c1000" [new connection per request]="conn per request")
    for name in "1 KiB file, -c50" "tiny response, -c50" "64 KiB file, -c50" "1 MiB file, -c50" \
                "1 KiB file, -c1000" "new connection per request"; do
      row "${short[$name]}" RPS "$name," ""
    done
  } >"$dir/throughput.tsv"
  {
    printf 'load\tshoal\tnginx\th2o\n'
    for rate in "${OPEN_RATES[@]}"; do row "1 KiB $rate/s" OPEN "$rate," ",cpu"; done
    if [ -n "${ISO_LOAD[1 KiB file]:-}" ]; then  # the servers alone on their CPU
      local -A short=([1 KiB file]="1 KiB" [tiny response]="tiny" [1 MiB file]="1 MiB")
      for name in "${ISO_SCENARIOS[@]}"; do
        row "${short[$name]} ${ISO_LOAD[$name]}/s alone" ISO_CPU "$name," ""
      done
    fi
  } >"$dir/cpu.tsv"
  local top=${OPEN_RATES[-1]}
  echo "$top" >"$dir/latency.rate"
  {
    printf 'percentile\tshoal\tnginx\th2o\n'
    row p50 OPEN "$top," ",p50"
    row p99 OPEN "$top," ",p99"
    row p99.9 OPEN "$top," ",p999"
  } >"$dir/latency.tsv"
  bash bench/charts.sh "$dir" bench "$(date -u +%Y-%m-%d), $ROUNDS x ${DURATION}s"
}
charts

header="## $(date -u +%Y-%m-%d) run: ${ROUNDS} rounds x ${DURATION}s, medians
$(nproc) CPUs ($(lscpu | awk -F: '/Model name/ { gsub(/^ +/, "", $2); if (!seen++) print $2 }')), $(uname -r);
shoal $("$SHOAL_BIN" -V | awk 'NR == 1' | cut -d' ' -f2), $(nginx -v 2>&1 | cut -d' ' -f3), h2o $(h2o --version | awk 'NR == 1' | cut -d' ' -f3), $( (wrk --version 2>&1 || true) | awk 'NR == 1' | cut -d" " -f1-2).
Command: \`bench/run.sh $ROUNDS $DURATION\`; wrk -t1 -c50 unless the scenario says otherwise (-c1000 uses -t2)."
output="$header

$(table)"
echo "$output"
if [ "${RECORD:-0}" = 1 ]; then printf '\n%s\n' "$output" >>bench/RESULTS.md; fi
