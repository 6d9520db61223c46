# Shared by the bench scripts (sourced, not run): installs missing tools and gives a temp
# dir `$work` whose servers (pids in `pids`) are stopped and which is removed on exit.
#
#   need_tools wrk nginx ...     apt-get install what is missing (nginx means nginx-light,
#                                gnuplot gnuplot-nox)
#   start_work_dir               sets $work and the cleanup trap
#   wrk_run ARGS, med LIST, ratio A B, server_pid NAME (with SERVERS and pids), task_stats,
#   cpu_ns, cpu_busy, pin_server NAME CPUS, pss_kb PID, measured PID COMMAND..., wrk_counts
#   FILE: measuring, shared by the scripts

need_tools() {
  local missing=()
  for tool in "$@"; do command -v "$tool" >/dev/null || missing+=("$tool"); done
  if [ ${#missing[@]} -gt 0 ]; then
    local pkgs=("${missing[@]/nginx/nginx-light}")
    pkgs=("${pkgs[@]/gnuplot/gnuplot-nox}")
    echo "bench: installing ${pkgs[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${pkgs[@]}" >/dev/null
  fi
}

start_work_dir() {
  work=$(mktemp -d)
  chmod 755 "$work"  # a server's workers run as nobody when the bench runs as root
  pids=()
  trap bench_cleanup EXIT
}

bench_cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}

# "req_per_s p99_ms errors" from one wrk run
wrk_run() {
  wrk --latency "$@" 2>&1 | awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    $1 == "99%" { p99 = ms($2) }
    $1 == "Requests/sec:" { rps = $2 }
    /Socket errors/ { gsub(",", ""); errors += $4 + $6 + $8 + $10 }
    /Non-2xx/ { errors += $5 }
    END { printf "%.0f %.2f %d\n", rps, p99, errors }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
med() { echo "$1" | tr ' ' '\n' | grep . | median; }  # the median of a space-separated list

server_pid() {  # the pid started for server $1
  local i
  for i in "${!SERVERS[@]}"; do
    if [ "${SERVERS[$i]}" = "$1" ]; then echo "${pids[$i]}"; fi
  done
}
descendants() { local c; for c in $(pgrep -P "$1" || true); do echo "$c"; descendants "$c"; done; }
task_stats() {  # the schedstat files of every thread of pid $1 and its descendants
  local p
  for p in $1 $(descendants "$1"); do echo /proc/"$p"/task/*/schedstat; done
}
cpu_ns() {  # total run time, in nanoseconds, of the threads whose schedstat files are given
  awk '{ total += $1 } END { printf "%.0f\n", total }' "$@" 2>/dev/null  # %d stops at 2^31 in mawk
}
user_sys_ticks() {  # "user system" clock ticks of every thread of pid $1 and its descendants
  local p
  for p in $1 $(descendants "$1"); do cat /proc/"$p"/task/*/stat 2>/dev/null; done |
    awk '{ sub(/^.*\) /, ""); u += $12; s += $13 } END { print u + 0, s + 0 }'
}
cpu_busy() {  # busy clock ticks of CPU $1 (user nice system irq softirq), from /proc/stat
  awk -v c="cpu$1" '$1 == c { print $2 + $3 + $4 + $7 + $8 }' /proc/stat
}

pin_server() {  # pin_server NAME CPU-LIST: every process and thread of the server
  local p
  for p in $(server_pid "$1") $(descendants "$(server_pid "$1")"); do
    taskset -a -p -c "$2" "$p" >/dev/null 2>&1 || true
  done
}

pss_kb() {  # total Pss of a pid and its descendants
  local total=0 p
  for p in $1 $(pgrep -P "$1" || true); do
    total=$(( total + $(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0) ))
  done
  echo "$total"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a != "") printf "%.2fx", a / b; else printf "n/a" }'; }

# measured PID COMMAND...: runs COMMAND (its output to $work/out) and prints the run time, in
# microseconds, of PID's threads and those of its descendants over it.
measured() {
  local pid=$1 stats ns0 ns1
  shift
  read -r -a stats <<<"$(task_stats "$pid" | tr '\n' ' ')"
  ns0=$(cpu_ns "${stats[@]}")
  "$@" >"$work/out" 2>&1 || true
  ns1=$(cpu_ns "${stats[@]}")
  echo $(( (ns1 - ns0) / 1000 ))
}

# wrk_counts FILE: "requests errors" (socket errors and non-2xx answers) of a wrk report.
wrk_counts() {
  awk '/requests in/ { r = $1 } /Socket errors/ { gsub(",", ""); e += $4 + $6 + $8 + $10 }
       /Non-2xx/ { e += $5 } END { print r + 0, e + 0 }' "$1"
}
