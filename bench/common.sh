# Shared by the bench scripts (sourced, not run): installs missing tools and gives a temp
# dir `$work` whose servers (pids in `pids`) are stopped and which is removed on exit.
#
#   need_tools wrk nginx ...     apt-get install what is missing (nginx means nginx-light)
#   start_work_dir               sets $work and the cleanup trap

need_tools() {
  local missing=()
  for tool in "$@"; do command -v "$tool" >/dev/null || missing+=("$tool"); done
  if [ ${#missing[@]} -gt 0 ]; then
    local pkgs=("${missing[@]/nginx/nginx-light}")
    echo "bench: installing ${pkgs[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${pkgs[@]}" >/dev/null
  fi
}

start_work_dir() {
  work=$(mktemp -d)
  pids=()
  trap bench_cleanup EXIT
}

bench_cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
