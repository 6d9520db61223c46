#!/usr/bin/env bash
# HTTPS: shoal against nginx and h2o in one run, with the same certificate (RSA 2048, made by
# tests/tls/make_certs.sh), 2 workers or threads each, session tickets on, access logs off.
# The servers run on the last CPU and every client on CPU 0 (as run.sh's isolated scenarios),
# so a server's run time per request (schedstat) is its cost; capacity ratios are the inverse
# ratios of those costs. Scenarios, alternating servers every round, medians:
#   keep-alive 1 KiB (wrk -c50), a new connection per request (wrk -c50 with Connection:
#   close; wrk resumes about half of them), full and resumed handshakes from one sequential
#   client (openssl s_time -new / -reuse, TLS 1.3 and 1.2), 1 MiB (wrk -c50), the memory
#   (PSS) of IDLE_CONNECTIONS idle TLS keep-alive connections, and OpenSSL's own floor for
#   that memory (bench/ssl_floor.cpp).
#
#   bench/tls.sh [ROUNDS=3] [SECONDS=4]        RECORD=1 appends the tables to RESULTS.md
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
ROUNDS=${1:-3}
DURATION=${2:-4}
IDLE_CONNECTIONS=${IDLE_CONNECTIONS:-10000}
declare -A PORT=([shoal]=18200 [nginx]=18201 [h2o]=18202)
SERVERS=(shoal nginx h2o)

need_tools wrk nginx h2o python3 openssl
make -s build >/dev/null
SHOAL_BIN=${SHOAL_BIN:-./build/shoal}  # another binary to measure (an earlier commit's)
cmake --build build --target ssl_floor >/dev/null
ulimit -n 30000 2>/dev/null || true

cpus=$(nproc)  # before the pinning below narrows this shell's mask
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
  - listen: [{ address: "127.0.0.1:${PORT[shoal]}", tls: true }]
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
    listen 127.0.0.1:${PORT[nginx]} ssl deferred;
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
  port: ${PORT[h2o]}
  ssl:
    certificate-file: $pem
    key-file: $key
    minimum-version: TLSv1.2
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
  for _ in $(seq 100); do curl -sfk -o /dev/null "https://127.0.0.1:${PORT[$s]}/1k.bin" && break; sleep 0.1; done
done

last_cpu=$(( cpus - 1 ))
if [ "$last_cpu" -ge 1 ]; then
  for s in "${SERVERS[@]}"; do pin_server "$s" "$last_cpu"; done
  taskset -p -c 0 $$ >/dev/null
fi

per() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }'; }

declare -A RATE CPU ERR
wrk_scenario() {  # name path wrk-args...
  local name=$1 path=$2
  shift 2
  for round in $(seq "$ROUNDS"); do
    for s in "${SERVERS[@]}"; do
      local us requests errors
      us=$(measured "$(server_pid "$s")" wrk "$@" "https://127.0.0.1:${PORT[$s]}$path")
      read -r requests errors <<<"$(wrk_counts "$work/out")"
      RATE[$name,$s]+="$(awk -v n="$requests" -v d="$DURATION" 'BEGIN { printf "%.0f", n / d }') "
      CPU[$name,$s]+="$(per "$us" "$requests") "
      ERR[$name,$s]=$(( ${ERR[$name,$s]:-0} + errors ))
    done
  done
}
s_time_scenario() {  # name s_time-args...
  local name=$1
  shift
  for round in $(seq "$ROUNDS"); do
    for s in "${SERVERS[@]}"; do
      local us conns
      us=$(measured "$(server_pid "$s")" openssl s_time -connect "127.0.0.1:${PORT[$s]}" -time "$DURATION" \
        -www /1k.bin "$@")
      conns=$(awk '/connections in [0-9]+ real seconds/ { print $1 }' "$work/out" | tail -1)
      RATE[$name,$s]+="$(awk -v n="${conns:-0}" -v d="$DURATION" 'BEGIN { printf "%.0f", n / d }') "
      CPU[$name,$s]+="$(per "$us" "${conns:-0}") "
    done
  done
}

# wrk makes a new connection per request with Connection: close and resumes the session it
# had about half of the time; s_time -new is the full-handshake figure.
SCENARIOS=("keep-alive 1 KiB, -c50" "new connection per request, -c50" "1 MiB, -c50"
           "s_time -new, TLS 1.3" "s_time -reuse, TLS 1.3" "s_time -new, TLS 1.2" "s_time -reuse, TLS 1.2")
wrk_scenario "keep-alive 1 KiB, -c50" /1k.bin -t1 -c50 -d"${DURATION}s"
wrk_scenario "new connection per request, -c50" /1k.bin -t1 -c50 -d"${DURATION}s" -H "Connection: close"
wrk_scenario "1 MiB, -c50" /1m.bin -t1 -c50 -d"${DURATION}s"
s_time_scenario "s_time -new, TLS 1.3" -new -tls1_3
s_time_scenario "s_time -reuse, TLS 1.3" -reuse -tls1_3
s_time_scenario "s_time -new, TLS 1.2" -new -tls1_2
s_time_scenario "s_time -reuse, TLS 1.2" -reuse -tls1_2

# Memory per idle TLS keep-alive connection: PSS of every process of the server.
declare -A IDLE
for s in "${SERVERS[@]}"; do
  pid=$(server_pid "$s")
  before=$(pss_kb "$pid")
  coproc HOLD { python3 bench/idle_connections.py 127.0.0.1 "${PORT[$s]}" "$IDLE_CONNECTIONS" /1k.bin tls; }
  read -r ready n <&"${HOLD[0]}" || true
  if [ "${ready:-}" = ready ]; then
    after=$(pss_kb "$pid")
    IDLE[$s]=$(( (after - before) * 1024 / IDLE_CONNECTIONS ))
  else
    IDLE[$s]="failed"
  fi
  exec {HOLD[1]}>&-
  wait "$HOLD_PID" 2>/dev/null || true
  sleep 1
done

read -r floor_new floor_idle <<<"$(./build/ssl_floor "$pem" "$key" 2000)"

table() {
  echo "| HTTPS, servers on CPU $last_cpu, clients on CPU 0 | per second shoal / nginx / h2o | server us per request shoal / nginx / h2o | capacity shoal/nginx | capacity shoal/h2o | errors shoal / nginx / h2o |"
  echo "|---|---|---|---|---|---|"
  for name in "${SCENARIOS[@]}"; do
    local r=() c=() e=()
    for s in "${SERVERS[@]}"; do
      r+=("$(med "${RATE[$name,$s]}")"); c+=("$(med "${CPU[$name,$s]}")"); e+=("${ERR[$name,$s]:--}")
    done
    printf "| %s | %s / %s / %s | %s / %s / %s | %s | %s | %s / %s / %s |\n" "$name" \
      "${r[0]}" "${r[1]}" "${r[2]}" "${c[0]}" "${c[1]}" "${c[2]}" \
      "$(ratio "${c[1]}" "${c[0]}")" "$(ratio "${c[2]}" "${c[0]}")" "${e[0]}" "${e[1]}" "${e[2]}"
  done
  echo
  local resumed13 resumed12
  resumed13=$(ratio "$(med "${RATE[s_time -reuse, TLS 1.3,shoal]}")" "$(med "${RATE[s_time -new, TLS 1.3,shoal]}")")
  resumed12=$(ratio "$(med "${RATE[s_time -reuse, TLS 1.2,shoal]}")" "$(med "${RATE[s_time -new, TLS 1.2,shoal]}")")
  echo "shoal's resumed / full handshake rate (s_time, one client): TLS 1.3 $resumed13, TLS 1.2 $resumed12"
  echo
  echo "| idle TLS keep-alive connections ($IDLE_CONNECTIONS) | shoal | nginx | h2o |"
  echo "|---|---|---|---|"
  echo "| bytes of PSS per connection | ${IDLE[shoal]} | ${IDLE[nginx]} | ${IDLE[h2o]} |"
  echo
  echo "OpenSSL's own heap per server connection (bench/ssl_floor.cpp, no server around it): SSL_new alone ${floor_new} bytes; idle after a TLS 1.3 handshake and one request, buffers released, ${floor_idle} bytes."
}

header="## $(date -u +%Y-%m-%d) HTTPS run: ${ROUNDS} rounds x ${DURATION}s, medians
$cpus CPUs ($(lscpu | awk -F: '/Model name/ { gsub(/^ +/, "", $2); if (!seen++) print $2 }')), $(uname -r);
shoal $("$SHOAL_BIN" -V | awk 'NR == 1' | cut -d' ' -f2), $(nginx -v 2>&1 | cut -d' ' -f3), h2o $(h2o --version | awk 'NR == 1' | cut -d' ' -f3), $(openssl version | cut -d' ' -f1-2).
Command: \`bench/tls.sh $ROUNDS $DURATION\`; RSA 2048 certificate; \"per second\" is requests (wrk) or connections (s_time)."
output="$header

$(table)"
echo "$output"
if [ "${RECORD:-0}" = 1 ]; then printf '\n%s\n' "$output" >>bench/RESULTS.md; fi
