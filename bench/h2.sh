#!/usr/bin/env bash
# HTTP/2: shoal against nginx and h2o in one run, with h2load (nghttp2-client), the same
# certificate (RSA 2048, tests/tls/make_certs.sh), 2 workers or threads each, access logs off.
# The servers run on the last CPU and h2load on CPU 0 (as tls.sh), so a server's run time per
# request (schedstat) is its cost; capacity ratios are the inverse ratios of those costs.
# Scenarios, alternating servers every round, medians:
#   h2 over TLS, 1 KiB, h2load -c100 -m10; h2c by prior knowledge, the same; 100 concurrent
#   1 MiB streams on one connection (h2load -c1 -m100); then the memory (PSS) of
#   IDLE_CONNECTIONS idle h2c connections after a request each (bench/idle_h2.py).
#
#   bench/h2.sh [ROUNDS=3] [SECONDS=4]        RECORD=1 appends the table to RESULTS.md
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
ROUNDS=${1:-3}
DURATION=${2:-4}
declare -A TLS_PORT=([shoal]=18300 [nginx]=18301 [h2o]=18302)
declare -A PLAIN_PORT=([shoal]=18310 [nginx]=18311 [h2o]=18312)
SERVERS=(shoal nginx h2o)

need_tools h2load nginx h2o openssl curl
make -s build >/dev/null
SHOAL_BIN=${SHOAL_BIN:-./build/shoal}
ulimit -n 30000 2>/dev/null || true

cpus=$(nproc)
start_work_dir
bash tests/tls/make_certs.sh "$work/certs" >/dev/null
pem=$work/certs/rsa.pem
key=$work/certs/rsa.key
mkdir -p "$work/www"
head -c 1024 /dev/urandom >"$work/www/1k.bin"
head -c 1048576 /dev/urandom >"$work/www/1m.bin"

cat >"$work/shoal.yaml" <<YAML
workers: 2
log: { error: { path: $work/shoal-error.log, level: warn }, access: { path: off } }
limits: { max_connections: 20000 }
servers:
  - listen: [{ address: "127.0.0.1:${TLS_PORT[shoal]}", tls: true }, "127.0.0.1:${PLAIN_PORT[shoal]}"]
    tls: { certificate: $pem, key: $key }
    routes:
      - match: /
        static: { root: $work/www }
YAML

cat >"$work/nginx.conf" <<CONF
$( [ "$(id -u)" = 0 ] && echo "user root;" )
worker_processes 2;
worker_rlimit_nofile 30000;
error_log $work/nginx-error.log;
pid $work/nginx.pid;
events { worker_connections 20000; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:${TLS_PORT[nginx]} ssl http2;
    listen 127.0.0.1:${PLAIN_PORT[nginx]} http2;
    ssl_certificate $pem;
    ssl_certificate_key $key;
    ssl_protocols TLSv1.2 TLSv1.3;
    root $work/www;
  }
}
CONF

cat >"$work/h2o.conf" <<CONF
$( [ "$(id -u)" = 0 ] && echo "user: root" )
num-threads: 2
max-connections: 20000
error-log: $work/h2o-error.log
pid-file: $work/h2o.pid
listen:
  host: 127.0.0.1
  port: ${TLS_PORT[h2o]}
  ssl:
    certificate-file: $pem
    key-file: $key
    minimum-version: TLSv1.2
listen:
  host: 127.0.0.1
  port: ${PLAIN_PORT[h2o]}
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
  for _ in $(seq 100); do
    curl -sfk --http2 -o /dev/null "https://127.0.0.1:${TLS_PORT[$s]}/1k.bin" && break
    sleep 0.1
  done
done

last_cpu=$(( cpus - 1 ))
if [ "$last_cpu" -ge 1 ]; then
  for s in "${SERVERS[@]}"; do pin_server "$s" "$last_cpu"; done
  taskset -p -c 0 $$ >/dev/null
fi

per() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }'; }

declare -A RATE CPU ERR MBS
# h2load_scenario NAME URL-PATH SCHEME-PORT-MAP h2load-args...
h2load_scenario() {
  local name=$1 scheme=$2 path=$3
  shift 3
  for round in $(seq "$ROUNDS"); do
    for s in "${SERVERS[@]}"; do
      local port us succeeded failed
      if [ "$scheme" = https ]; then port=${TLS_PORT[$s]}; else port=${PLAIN_PORT[$s]}; fi
      us=$(measured "$(server_pid "$s")" h2load -D "$DURATION" "$@" "$scheme://127.0.0.1:$port$path")
      succeeded=$(awk '/^requests:/ { print $8 }' "$work/out")
      failed=$(awk '/^requests:/ { print $10 + $12 }' "$work/out")
      RATE[$name,$s]+="$(awk -v n="${succeeded:-0}" -v d="$DURATION" 'BEGIN { printf "%.0f", n / d }') "
      MBS[$name,$s]+="$(awk '/^finished in/ { v = $6 + 0; if ($6 ~ /GB/) v *= 1024; if ($6 ~ /KB/) v /= 1024; printf "%.0f", v }' "$work/out") "
      CPU[$name,$s]+="$(per "$us" "${succeeded:-0}") "
      ERR[$name,$s]=$(( ${ERR[$name,$s]:-0} + ${failed:-0} ))
    done
  done
}

SCENARIOS=("h2 (TLS) 1 KiB, -c100 -m10" "h2c 1 KiB, -c100 -m10" "h2 (TLS) 1 MiB, -c1 -m100")
h2load_scenario "h2 (TLS) 1 KiB, -c100 -m10" https /1k.bin -c100 -m10 -t1
h2load_scenario "h2c 1 KiB, -c100 -m10" http /1k.bin -c100 -m10 -t1
h2load_scenario "h2 (TLS) 1 MiB, -c1 -m100" https /1m.bin -c1 -m100 -t1

# Memory per idle HTTP/2 connection (h2c, one request each): PSS of every process of the server.
IDLE_CONNECTIONS=${IDLE_CONNECTIONS:-10000}
declare -A IDLE
for s in "${SERVERS[@]}"; do
  pid=$(server_pid "$s")
  before=$(pss_kb "$pid")
  coproc HOLD { /usr/bin/python3 bench/idle_h2.py 127.0.0.1 "${PLAIN_PORT[$s]}" "$IDLE_CONNECTIONS" /1k.bin; }
  read -r ready n <&"${HOLD[0]}" || true
  if [ "${ready:-}" = ready ]; then
    sleep 2.5  # as run.sh: idle connections settle (shoal's park)
    after=$(pss_kb "$pid")
    IDLE[$s]=$(( (after - before) * 1024 / IDLE_CONNECTIONS ))
  else
    IDLE[$s]="failed"
  fi
  exec {HOLD[1]}>&-
  wait "$HOLD_PID" 2>/dev/null || true
  sleep 1
done

table() {
  echo "| HTTP/2, servers on CPU $last_cpu, h2load on CPU 0 | requests/s shoal / nginx / h2o | MB/s shoal / nginx / h2o | server us per request shoal / nginx / h2o | capacity shoal/nginx | capacity shoal/h2o | failed shoal / nginx / h2o |"
  echo "|---|---|---|---|---|---|---|"
  for name in "${SCENARIOS[@]}"; do
    local r=() m=() c=() e=()
    for s in "${SERVERS[@]}"; do
      r+=("$(med "${RATE[$name,$s]}")"); m+=("$(med "${MBS[$name,$s]}")")
      c+=("$(med "${CPU[$name,$s]}")"); e+=("${ERR[$name,$s]:--}")
    done
    printf "| %s | %s / %s / %s | %s / %s / %s | %s / %s / %s | %s | %s | %s / %s / %s |\n" "$name" \
      "${r[0]}" "${r[1]}" "${r[2]}" "${m[0]}" "${m[1]}" "${m[2]}" "${c[0]}" "${c[1]}" "${c[2]}" \
      "$(ratio "${c[1]}" "${c[0]}")" "$(ratio "${c[2]}" "${c[0]}")" "${e[0]}" "${e[1]}" "${e[2]}"
  done
  echo
  echo "| idle HTTP/2 connections, h2c ($IDLE_CONNECTIONS) | shoal | nginx | h2o |"
  echo "|---|---|---|---|"
  echo "| bytes of PSS per connection | ${IDLE[shoal]} | ${IDLE[nginx]} | ${IDLE[h2o]} |"
}

header="## $(date -u +%Y-%m-%d) HTTP/2 run: ${ROUNDS} rounds x ${DURATION}s, medians
$cpus CPUs ($(lscpu | awk -F: '/Model name/ { gsub(/^ +/, "", $2); if (!seen++) print $2 }')), $(uname -r);
shoal $("$SHOAL_BIN" -V | awk 'NR == 1' | cut -d' ' -f2), $(nginx -v 2>&1 | cut -d' ' -f3), h2o $(h2o --version | awk 'NR == 1' | cut -d' ' -f3), $(h2load --version | head -1).
Command: \`bench/h2.sh $ROUNDS $DURATION\`; RSA 2048 certificate."
output="$header

$(table)"
echo "$output"
if [ "${RECORD:-0}" = 1 ]; then printf '\n%s\n' "$output" >>bench/RESULTS.md; fi
