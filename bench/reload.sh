#!/usr/bin/env bash
# Reload under load, shoal and nginx in one run: wrk keeps CONNECTIONS keep-alive connections
# busy on a 1 KiB static file for SECONDS while the server is reloaded RELOADS times, evenly
# spread; prints the socket errors and non-2xx answers wrk saw, in all and per reload.
#
#   bench/reload.sh [RELOADS=8] [SECONDS=10] [CONNECTIONS=100]
#   TLS=1 bench/reload.sh ...    the same over HTTPS (one RSA 2048 certificate for both); wrk
#                                then also makes a new connection, with a full handshake,
#                                whenever a reload closes one
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
RELOADS=${1:-8}
DURATION=${2:-10}
CONNECTIONS=${3:-100}
declare -A PORT=([shoal]=18110 [nginx]=18111)

need_tools wrk nginx
make -s build >/dev/null

start_work_dir
mkdir -p "$work/www"
head -c 1024 /dev/urandom >"$work/www/1k.bin"
scheme=http
shoal_listen="127.0.0.1:${PORT[shoal]}"
shoal_tls=""
nginx_listen="127.0.0.1:${PORT[nginx]}"
nginx_tls=""
if [ "${TLS:-0}" = 1 ]; then
  bash tests/tls/make_certs.sh "$work/certs" >/dev/null
  scheme=https
  shoal_listen="{ address: \"127.0.0.1:${PORT[shoal]}\", tls: true }"
  shoal_tls="    tls: { certificate: $work/certs/rsa.pem, key: $work/certs/rsa.key }"
  nginx_listen="127.0.0.1:${PORT[nginx]} ssl"
  nginx_tls="ssl_certificate $work/certs/rsa.pem; ssl_certificate_key $work/certs/rsa.key;"
fi

cat >"$work/shoal.yaml" <<YAML
workers: 2
pid_file: $work/shoal.pid
log: { error: { path: $work/shoal-error.log, level: info }, access: { path: off } }
servers:
  - listen: [$shoal_listen]
$shoal_tls
    routes:
      - match: /
        static: { root: $work/www }
YAML
cat >"$work/nginx.conf" <<CONF
$( [ "$(id -u)" = 0 ] && echo "user root;" )
worker_processes 2;
error_log $work/nginx-error.log;
pid $work/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  server { listen $nginx_listen; $nginx_tls root $work/www; }
}
CONF

build/shoal -c "$work/shoal.yaml" & pids+=($!)
nginx -c "$work/nginx.conf" -g 'daemon off;' & pids+=($!)
sleep 1

reload() {
  case $1 in
    shoal) build/shoal -c "$work/shoal.yaml" -s reload >/dev/null ;;
    nginx) nginx -c "$work/nginx.conf" -s reload 2>/dev/null ;;
  esac
}

# Prints "errors non2xx requests" from wrk's report.
run_one() {
  local server=$1 out="$work/wrk-$1.txt"
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" "$scheme://127.0.0.1:${PORT[$server]}/1k.bin" >"$out" &
  local wrk_pid=$!
  local gap
  gap=$(python3 -c "print($DURATION / ($RELOADS + 1))")
  for _ in $(seq "$RELOADS"); do
    sleep "$gap"
    reload "$server"
  done
  wait "$wrk_pid"
  python3 - "$out" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
requests = re.search(r"(\d+) requests in", text)
print(errors, non2xx.group(1) if non2xx else 0, requests.group(1) if requests else 0)
PY
}

echo "reload under load ($scheme): wrk -t2 -c$CONNECTIONS -d${DURATION}s on a 1 KiB file, $RELOADS reloads"
printf '%-6s %12s %10s %8s %16s\n' server requests errors non-2xx "failed/reload"
for server in shoal nginx; do
  read -r errors non2xx requests < <(run_one "$server")
  per=$(python3 -c "print(f'{($errors + $non2xx) / $RELOADS:.1f}')")
  printf '%-6s %12s %10s %8s %16s\n' "$server" "$requests" "$errors" "$non2xx" "$per"
done
