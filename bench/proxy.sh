#!/usr/bin/env bash
# Reverse proxy: shoal against nginx 1.22 (proxy_pass with upstream keepalive) and HAProxy
# 2.6, in one run, in front of the same upstream (an nginx serving a small response, a 1 MiB
# file and a sink for 1 MiB bodies). Proxies: 2 workers or threads, access logs off, 64 idle
# upstream connections per worker. The proxies run on the last CPU, wrk and the upstream on
# CPU 0; a proxy's run time per request (schedstat) is its cost, capacity ratios are the
# inverse ratios of those costs. Then churn: three upstreams (keep-alive timeout 5 s), one
# killed and restarted every 10 s for CHURN_SECONDS under wrk; non-2xx and socket errors.
#
# The small-response cost is also split into user and kernel time (clock ticks of the
# proxies' threads over every round): the kernel's share is the TCP work of the four socket
# calls a proxied request needs, the same for every proxy.
#
#   bench/proxy.sh [ROUNDS=3] [SECONDS=4]     CHURN_SECONDS=60; RECORD=1 appends to RESULTS.md
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
ROUNDS=${1:-3}
DURATION=${2:-4}
CHURN_SECONDS=${CHURN_SECONDS:-60}
declare -A PORT=([shoal]=18301 [nginx]=18302 [haproxy]=18303)
UPSTREAM=18300
CHURN_PORTS=(18310 18311 18312)
SERVERS=(shoal nginx haproxy)

need_tools wrk nginx haproxy
make -s build >/dev/null
SHOAL_BIN=${SHOAL_BIN:-./build/shoal}  # another binary to measure (an earlier commit's)
cmake --build build --target openloop >/dev/null
cpus=$(nproc)
ulimit -n 65536 2>/dev/null || ulimit -n 20000 2>/dev/null || true
start_work_dir
mkdir -p "$work/www"
head -c 1048576 /dev/urandom >"$work/www/1m.bin"
head -c 1048576 /dev/urandom >"$work/body.bin"
root_user=$( [ "$(id -u)" = 0 ] && echo "user root;" )

upstream_conf() {  # upstream_conf PORT NAME: an nginx upstream, one process (kill -9 ends it)
  cat <<CONF
$root_user
master_process off;
worker_processes 1;
error_log $work/$2-error.log;
pid $work/$2.pid;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 5s;
  server {
    listen 127.0.0.1:$1;
    root $work/www;
    location = /small { return 200 "hello from the upstream\n"; }
    # mirror_request_body makes nginx read the whole body before it answers (a plain
    # return answers first, and every proxy then has to cut the client's upload short).
    location = /sink { client_max_body_size 2m; mirror /m; mirror_request_body on; return 200 "ok\n"; }
    location = /m { internal; return 204; }
  }
}
CONF
}
upstream_conf "$UPSTREAM" upstream >"$work/upstream.conf"
for p in "${CHURN_PORTS[@]}"; do upstream_conf "$p" "churn$p" >"$work/churn$p.conf"; done

proxy_configs() {  # proxy_configs "SERVER..." : the three proxies in front of those servers
  local servers=("$@")
  local list="" nginx_servers="" haproxy_servers="" i=0
  for s in "${servers[@]}"; do
    list+="${list:+, }\"$s\""
    nginx_servers+="    server $s;"$'\n'
    haproxy_servers+="  server s$i $s"$'\n'
    i=$((i + 1))
  done
  cat >"$work/shoal.yaml" <<YAML
workers: 2
log: { error: { path: $work/shoal-error.log, level: warn }, access: { path: off } }
limits: { max_connections: 20000, max_body_bytes: 2m }
upstreams:
  app: { servers: [$list], keepalive: 64, max_fails: 0 }
servers:
  - listen: 127.0.0.1:${PORT[shoal]}
    routes:
      - match: /
        proxy: { upstream: app }
YAML
  cat >"$work/nginx.conf" <<CONF
$root_user
worker_processes 2;
error_log $work/nginx-error.log;
pid $work/nginx.pid;
events { worker_connections 20000; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_max_body_size 2m;
  upstream app {
$nginx_servers
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${PORT[nginx]};
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_next_upstream error timeout;
    }
  }
}
CONF
  cat >"$work/haproxy.cfg" <<CONF
global
  nbthread 2
  maxconn 8000
  pidfile $work/haproxy.pid
defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  option http-keep-alive
  retries 1
  option redispatch
frontend f
  bind 127.0.0.1:${PORT[haproxy]}
  default_backend app
backend app
  http-reuse safe
$haproxy_servers
CONF
}

start_proxies() {
  pids=("${pids[@]:0:1}")  # keep the upstream
  "$SHOAL_BIN" -c "$work/shoal.yaml" & pids+=($!)
  nginx -p "$work/" -c "$work/nginx.conf" -g 'daemon off;' & pids+=($!)
  haproxy -f "$work/haproxy.cfg" -db >"$work/haproxy.out" 2>&1 & pids+=($!)
  for s in "${SERVERS[@]}"; do
    for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:${PORT[$s]}/small" && break; sleep 0.1; done
  done
}
stop_proxies() {
  local p
  for p in "${pids[@]:1}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]:1}"; do wait "$p" 2>/dev/null || true; done
  pids=("${pids[@]:0:1}")
}

# server_pid from common.sh counts from pids[0]: the upstream is pids[0] here.
proxy_pid() {
  local i
  for i in "${!SERVERS[@]}"; do
    if [ "${SERVERS[$i]}" = "$1" ]; then echo "${pids[$((i + 1))]}"; fi
  done
}

nginx -p "$work/" -c "$work/upstream.conf" -g 'daemon off;' & pids+=($!)
for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$UPSTREAM/small" && break; sleep 0.1; done
proxy_configs "127.0.0.1:$UPSTREAM"
start_proxies

last_cpu=$(( cpus - 1 ))
pin_all() {
  local s p
  for s in "${SERVERS[@]}"; do
    for p in $(proxy_pid "$s") $(descendants "$(proxy_pid "$s")"); do
      taskset -a -p -c "$last_cpu" "$p" >/dev/null 2>&1 || true
    done
  done
  for p in ${pids[0]} $(descendants "${pids[0]}"); do taskset -a -p -c 0 "$p" >/dev/null 2>&1 || true; done
}
if [ "$last_cpu" -ge 1 ]; then
  pin_all
  taskset -p -c 0 $$ >/dev/null
fi

cat >"$work/post.lua" <<LUA
local f = io.open("$work/body.bin", "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
wrk.headers["Content-Type"] = "application/octet-stream"
LUA

declare -A RATE CPU ERR P99 SPLIT
wrk_scenario() {  # name path wrk-args...
  local name=$1 path=$2
  shift 2
  for round in $(seq "$ROUNDS"); do
    for s in "${SERVERS[@]}"; do
      local us requests errors u0 s0 u1 s1 su ss sn
      read -r u0 s0 <<<"$(user_sys_ticks "$(proxy_pid "$s")")"
      us=$(measured "$(proxy_pid "$s")" wrk --latency "$@" "http://127.0.0.1:${PORT[$s]}$path")
      read -r u1 s1 <<<"$(user_sys_ticks "$(proxy_pid "$s")")"
      read -r requests errors <<<"$(wrk_counts "$work/out")"
      read -r su ss sn <<<"${SPLIT[$name,$s]:-0 0 0}"
      SPLIT[$name,$s]="$((su + u1 - u0)) $((ss + s1 - s0)) $((sn + requests))"
      RATE[$name,$s]+="$(awk -v n="$requests" -v d="$DURATION" 'BEGIN { printf "%.0f", n / d }') "
      CPU[$name,$s]+="$(awk -v a="$us" -v b="$requests" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }') "
      ERR[$name,$s]=$(( ${ERR[$name,$s]:-0} + errors ))
    done
  done
}
SCENARIOS=("small response, keep-alive, -c50" "1 MiB response, -c20" "1 MiB request body, -c20")
wrk_scenario "small response, keep-alive, -c50" /small -t1 -c50 -d"${DURATION}s"
wrk_scenario "1 MiB response, -c20" /1m.bin -t1 -c20 -d"${DURATION}s"
wrk_scenario "1 MiB request body, -c20" /sink -t1 -c20 -d"${DURATION}s" -s "$work/post.lua"

# Upstream connections each proxy holds in the middle of the small-response load (ss; at
# most 64 idle per worker are kept, and wrk's 50 connections bound those in use).
declare -A SOCKETS
for s in "${SERVERS[@]}"; do
  wrk -t1 -c50 -d"${DURATION}s" "http://127.0.0.1:${PORT[$s]}/small" >/dev/null 2>&1 &
  load=$!
  sleep "$(awk -v d="$DURATION" 'BEGIN { print d / 2 }')"
  ss -tanp state established "( dport = :$UPSTREAM )" >"$work/ss.txt" 2>/dev/null || true
  wait "$load" || true
  n=0
  for p in $(proxy_pid "$s") $(descendants "$(proxy_pid "$s")"); do
    n=$(( n + $(grep -c "pid=$p," "$work/ss.txt" || true) ))
  done
  SOCKETS[$s]=$n
done

# Added latency at a fixed rate: half of nginx's small-response rate, 50 connections.
nginx_small=$(med "${RATE[small response, keep-alive, -c50,nginx]}")
rate=$(( nginx_small / 2 ))
declare -A OPEN
for round in $(seq "$ROUNDS"); do
  for s in "${SERVERS[@]}"; do
    ./build/openloop "${PORT[$s]}" /small "$rate" 50 $((DURATION + 1)) >"$work/openloop.out"
    read -r _ _ p50 p99 p999 _ errors <"$work/openloop.out"
    OPEN[$s,p50]+="$p50 "; OPEN[$s,p99]+="$p99 "; OPEN[$s,p999]+="$p999 "
    ERR[open,$s]=$(( ${ERR[open,$s]:-0} + errors ))
  done
done
direct=""
for round in $(seq "$ROUNDS"); do
  ./build/openloop "$UPSTREAM" /small "$rate" 50 $((DURATION + 1)) >"$work/openloop.out"
  read -r _ _ p50 p99 _ _ _ <"$work/openloop.out"
  direct+="$p99 "
done

# Churn: three upstreams, one killed (SIGKILL) and started again every 10 s.
stop_proxies
declare -A CHURN
churn_servers=()
for p in "${CHURN_PORTS[@]}"; do churn_servers+=("127.0.0.1:$p"); done
declare -A CHURN_PID
start_churn() { nginx -p "$work/" -c "$work/churn$1.conf" -g 'daemon off;' & CHURN_PID[$1]=$!; }
for p in "${CHURN_PORTS[@]}"; do start_churn "$p"; done
sleep 0.5
proxy_configs "${churn_servers[@]}"
start_proxies
for s in "${SERVERS[@]}"; do
  wrk -t1 -c20 -d"${CHURN_SECONDS}s" "http://127.0.0.1:${PORT[$s]}/small" >"$work/churn-$s.txt" &
  load=$!
  k=0
  for _ in $(seq $((CHURN_SECONDS / 10))); do
    sleep 5
    p=${CHURN_PORTS[$((k % 3))]}
    kill -9 "${CHURN_PID[$p]}" 2>/dev/null || true
    wait "${CHURN_PID[$p]}" 2>/dev/null || true
    pkill -9 -f "churn$p.conf" 2>/dev/null || true
    sleep 5
    start_churn "$p"
    k=$((k + 1))
  done
  wait "$load" || true
  CHURN[$s]=$(awk '/requests in/ { r = $1 } /Socket errors/ { gsub(",", ""); e += $4 + $6 + $8 + $10 } /Non-2xx/ { n += $5 } END { printf "%d requests, %d non-2xx, %d socket errors", r, n, e }' "$work/churn-$s.txt")
done
for p in "${CHURN_PORTS[@]}"; do kill "${CHURN_PID[$p]}" 2>/dev/null || true; done
pkill -f "$work/churn" 2>/dev/null || true

table() {
  echo "| proxy, proxies on CPU $last_cpu, wrk and upstream on CPU 0 | req/s shoal / nginx / HAProxy | proxy us per request shoal / nginx / HAProxy | capacity shoal/nginx | capacity shoal/HAProxy | req/s shoal/nginx | errors shoal / nginx / HAProxy |"
  echo "|---|---|---|---|---|---|---|"
  for name in "${SCENARIOS[@]}"; do
    local r=() c=() e=()
    for s in "${SERVERS[@]}"; do
      r+=("$(med "${RATE[$name,$s]}")"); c+=("$(med "${CPU[$name,$s]}")"); e+=("${ERR[$name,$s]:-0}")
    done
    printf "| %s | %s / %s / %s | %s / %s / %s | %s | %s | %s | %s / %s / %s |\n" "$name" \
      "${r[0]}" "${r[1]}" "${r[2]}" "${c[0]}" "${c[1]}" "${c[2]}" \
      "$(ratio "${c[1]}" "${c[0]}")" "$(ratio "${c[2]}" "${c[0]}")" "$(ratio "${r[0]}" "${r[1]}")" \
      "${e[0]}" "${e[1]}" "${e[2]}"
  done
  echo
  echo "Small response at $rate req/s (half of nginx's), 50 connections, p50 / p99 / p99.9 us: shoal $(med "${OPEN[shoal,p50]}") / $(med "${OPEN[shoal,p99]}") / $(med "${OPEN[shoal,p999]}"); nginx $(med "${OPEN[nginx,p50]}") / $(med "${OPEN[nginx,p99]}") / $(med "${OPEN[nginx,p999]}"); HAProxy $(med "${OPEN[haproxy,p50]}") / $(med "${OPEN[haproxy,p99]}") / $(med "${OPEN[haproxy,p999]}"); the upstream directly p99 $(med "$direct") (errors: shoal ${ERR[open,shoal]:-0}, nginx ${ERR[open,nginx]:-0}, HAProxy ${ERR[open,haproxy]:-0})."
  echo
  local split="" hz
  hz=$(getconf CLK_TCK)
  for s in "${SERVERS[@]}"; do
    read -r su ss sn <<<"${SPLIT[small response, keep-alive, -c50,$s]}"
    split+="${split:+; }$s $(awk -v u="$su" -v k="$ss" -v n="$sn" -v hz="$hz" 'BEGIN { printf "user %.1f us + kernel %.1f us (%.0f%% kernel)", u * 1e6 / hz / n, k * 1e6 / hz / n, 100 * k / (u + k) }')"
  done
  echo "Small response, where the time goes (per request, all rounds): $split."
  echo
  echo "Upstream connections during the small-response load, wrk -c50 (ss): shoal ${SOCKETS[shoal]}, nginx ${SOCKETS[nginx]}, HAProxy ${SOCKETS[haproxy]} (pools of 64 idle per worker)."
  echo
  echo "Churn, ${CHURN_SECONDS} s of wrk -c20 on the small response, three upstreams (keep-alive timeout 5 s), one killed and restarted every 10 s: shoal ${CHURN[shoal]}; nginx ${CHURN[nginx]}; HAProxy ${CHURN[haproxy]}."
}

header="## $(date -u +%Y-%m-%d) proxy run: ${ROUNDS} rounds x ${DURATION}s, medians
$cpus CPUs ($(lscpu | awk -F: '/Model name/ { gsub(/^ +/, "", $2); if (!seen++) print $2 }')), $(uname -r);
shoal $("$SHOAL_BIN" -V | awk 'NR == 1' | cut -d' ' -f2), $(nginx -v 2>&1 | cut -d' ' -f3), HAProxy $(haproxy -v | awk 'NR == 1' | cut -d' ' -f3).
Command: \`bench/proxy.sh $ROUNDS $DURATION\` (CHURN_SECONDS=$CHURN_SECONDS); the upstream is one nginx worker."
output="$header

$(table)"
echo "$output"
if [ "${RECORD:-0}" = 1 ]; then printf '\n%s\n' "$output" >>bench/RESULTS.md; fi
