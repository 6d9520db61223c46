#!/usr/bin/env bash
# SVG charts of one bench/run.sh run, with gnuplot (Debian gnuplot-nox), beside RESULTS.md:
#   throughput.svg   req/s per scenario, shoal, nginx and h2o side by side (closed loop, wrk)
#   cpu.svg          server CPU microseconds per request at fixed rates (openloop)
#   latency.svg      p50, p99 and p99.9 at the higher fixed rate (openloop, 50 connections)
#
#   bench/charts.sh DATA_DIR OUT_DIR "TITLE SUFFIX"
# DATA_DIR holds throughput.tsv, cpu.tsv and latency.tsv as bench/run.sh writes them: a
# header line "label<TAB>shoal<TAB>nginx<TAB>h2o", then one line per group, "-" where a
# server was not measured.
set -euo pipefail
data=$1
out=$2
when=${3:-}
command -v gnuplot >/dev/null || {
  echo "charts: gnuplot is missing (apt-get install gnuplot-nox); no charts drawn" >&2
  exit 0
}

plot() {  # plot NAME YLABEL TITLE [LOG]
  local name=$1 ylabel=$2 title=$3 log=${4:-}
  gnuplot <<GP
set terminal svg size 920,420 dynamic font "sans,12" background "#ffffff"
set output "$out/$name.svg"
set datafile separator "\t"
set datafile missing "-"
set title "$title${when:+ ($when)}"
set ylabel "$ylabel"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.9 border -1
set boxwidth 0.9
set key outside top center horizontal
set key autotitle columnhead
set grid ytics lc rgb "#dddddd"
set yrange [0:*]
set xtics noenhanced nomirror font ",10"
set ytics nomirror
set border 3
$( [ -n "$log" ] && echo 'set logscale y; set yrange [*:*]' )
plot "$data/$name.tsv" using 2:xtic(1) title "shoal" lc rgb "#1a7f37", \
     "" using 3 title "nginx" lc rgb "#0a66c2", \
     "" using 4 title "h2o" lc rgb "#b26a00"
GP
  echo "charts: $out/$name.svg"
}

plot throughput "requests per second (log scale)" \
  "Throughput, 2 workers, wrk keep-alive (higher is better)" log
plot cpu "server CPU us per request (log scale)" \
  "CPU per request at fixed rates; 'alone': servers on their own CPU (lower is better)" log
plot latency "microseconds (log scale)" \
  "Latency at $(cat "$data/latency.rate" 2>/dev/null || echo a fixed) req/s, 50 connections (lower is better)" log
