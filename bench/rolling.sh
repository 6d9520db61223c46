#!/usr/bin/env bash
# A rolling restart behind a load balancer: HAProxy 2.6 (conf/examples/haproxy/haproxy.cfg,
# send-proxy-v2, checks on /healthz every 1 s, fall 2) in front of two instances on this
# machine, wrk with keep-alive for DURATION seconds (a GET loop, and a POST loop with 4 KiB
# bodies), while the script stops and starts each instance RESTARTS times in turn (graceful
# stop, then start again once the other one is in), and runs a reload and an upgrade on each.
# Then the same with two nginx instances (listen ... proxy_protocol; nginx has no draining
# health check: its /healthz answers 200 until it stops) behind the same HAProxy. Prints the
# requests, failed requests (non-2xx) and socket errors (resets, failed connects) of each.
#
#   bench/rolling.sh [DURATION=60] [RESTARTS=5]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
DURATION=${1:-60}
RESTARTS=${2:-5}
need_tools wrk haproxy nginx curl
make -s build >/dev/null
start_work_dir

cat >"$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = string.rep("x", 4096)
wrk.headers["Content-Type"] = "application/octet-stream"
LUA
sed "s|^  maxconn 4096|  maxconn 4096\n  pidfile $work/haproxy.pid|" \
  conf/examples/haproxy/haproxy.cfg >"$work/haproxy.cfg"

healthy() {  # healthy PORT: the instance answers its health check through a PROXY header
  curl -sf --haproxy-protocol -o /dev/null "http://127.0.0.1:$1/healthz"
}
wait_healthy() {
  for _ in $(seq 200); do healthy "$1" && return 0; sleep 0.05; done
  echo "rolling: the instance on port $1 did not come up" >&2
  return 1
}

# --- shoal ---
for n in 1 2; do
  sed -e "s|^pid_file: .*|pid_file: $work/shoal-$n.pid|" \
      -e "s|error: { path: stderr, level: info }|error: { path: $work/shoal-$n.log, level: info }|" \
      conf/examples/haproxy/shoal-$n.yaml >"$work/shoal-$n.yaml"
done
shoal_start() {
  ./build/shoal -c "$work/shoal-$1.yaml" & pids+=($!)
  wait_healthy "808$1"
}
shoal_quit() { ./build/shoal -c "$work/shoal-$1.yaml" -s quit >/dev/null 2>&1; }
shoal_control() { ./build/shoal -c "$work/shoal-$2.yaml" -s "$1" >/dev/null 2>&1; }

# --- nginx ---
for n in 1 2; do
  mkdir -p "$work/nginx-$n"
  cat >"$work/nginx-$n/nginx.conf" <<CONF
$( [ "$(id -u)" = 0 ] && echo "user root;" )
worker_processes 2;
error_log $work/nginx-$n/error.log;
pid $work/nginx-$n/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_buffer_size 16k;
  server {
    listen 127.0.0.1:808$n proxy_protocol;
    location = /healthz { return 200 "ok\n"; }
    location / { return 200 "nginx-$n\n"; }
  }
}
CONF
done
nginx_start() {
  nginx -p "$work/nginx-$1/" -c "$work/nginx-$1/nginx.conf" -g 'daemon off;' & pids+=($!)
  wait_healthy "808$1"
}
nginx_quit() {
  local pid
  pid=$(cat "$work/nginx-$1/nginx.pid")
  kill -QUIT "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
}

# run NAME: both instances and HAProxy up, the load, the restarts, the counts.
run() {
  local name=$1 n i
  for n in 1 2; do "${name}_start" "$n"; done
  haproxy -db -f "$work/haproxy.cfg" >"$work/haproxy.out" 2>&1 &
  local proxy=$!
  pids+=("$proxy")
  for _ in $(seq 100); do curl -sf -o /dev/null http://127.0.0.1:8000/ && break; sleep 0.05; done
  sleep 2  # both servers up in HAProxy's view (rise 2)
  wrk -t1 -c20 -d"${DURATION}s" http://127.0.0.1:8000/ >"$work/$name-get.txt" 2>&1 &
  local get=$!
  wrk -t1 -c10 -d"${DURATION}s" -s "$work/post.lua" http://127.0.0.1:8000/ \
    >"$work/$name-post.txt" 2>&1 &
  local post=$!
  local start=$SECONDS
  sleep 2
  if [ "$name" = shoal ]; then  # nginx's binary upgrade needs a daemon; only shoal does both
    for n in 1 2; do shoal_control reload "$n"; sleep 1; shoal_control upgrade "$n"; sleep 1; done
  else
    for n in 1 2; do nginx -p "$work/nginx-$n/" -c "$work/nginx-$n/nginx.conf" -s reload; sleep 2; done
  fi
  for i in $(seq "$RESTARTS"); do
    for n in 1 2; do
      "${name}_quit" "$n"
      "${name}_start" "$n"
      sleep 2.5  # back in HAProxy's view (rise 2, inter 1s) before the other one goes
    done
  done
  [ "$SECONDS" -lt "$((start + DURATION))" ] ||
    echo "rolling: the restarts outlasted the load; raise DURATION" >&2
  wait "$get" || echo "rolling: wrk (GET) exited with $?" >&2
  wait "$post" || echo "rolling: wrk (POST) exited with $?" >&2
  kill "$proxy" 2>/dev/null; wait "$proxy" 2>/dev/null || true
  for n in 1 2; do "${name}_quit" "$n"; done
  local g p
  g=$(wrk_counts "$work/$name-get.txt")
  p=$(wrk_counts "$work/$name-post.txt")
  read -r gr ge <<<"$g"
  read -r pr pe <<<"$p"
  local gs ps gn pn
  gn=$(awk '/Non-2xx/ { print $5 }' "$work/$name-get.txt"); gn=${gn:-0}
  pn=$(awk '/Non-2xx/ { print $5 }' "$work/$name-post.txt"); pn=${pn:-0}
  gs=$((ge - gn)); ps=$((pe - pn))
  printf "| %s | %s | %s | %s | %s | %s | %s |\n" "$name" "$gr" "$gn" "$gs" "$pr" "$pn" "$ps"
}

echo "## $(date -u +%Y-%m-%d): rolling restarts behind HAProxy (\`bench/rolling.sh $DURATION $RESTARTS\`)"
echo
echo "$(haproxy -v | awk 'NR == 1 { print $1, $3 }'), 2 instances of 2 workers, wrk -c20 GET and -c10 POST (4 KiB)"
echo "for ${DURATION}s through HAProxy; each instance stopped gracefully and started again $RESTARTS times"
echo "in turn, after a reload (and for shoal an upgrade) of each. Failed = non-2xx answers;"
echo "socket errors = connect, read, write errors and timeouts seen by wrk (resets among them)."
echo
echo "| server | GET requests | GET failed | GET socket errors | POST requests | POST failed | POST socket errors |"
echo "|---|---|---|---|---|---|---|"
run shoal
run nginx
