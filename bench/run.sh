#!/usr/bin/env bash
# bench/run.sh BUILD_DIR: what `make bench` runs. See bench/README.md.
#
# 1. restart_latency: vigied against a bare posix_spawn+waitpid loop, same crash loop, same run.
# 2. If the peer harness is there ($PEERS_DIR, default <repo>/../shared/peers), the same crash
#    loop under its floor-spawn, vigied through its AGENT_CMD contract, and every supervisor
#    that is installed (supervisord, runit, s6, daemontools). Nothing is installed from here.
# Then one markdown table with every column.
# 3. The API under load: heartbeat_size, heartbeat_qps and fleet_bench, each printing its own.
# 4. Crash capture (root): coredump_drain, coredump_latency and crash_incident, which install
#    their own core_pattern for the run; it is put back however the run ends.
# 5. Containers (root, runc installed): container_restart, a container unit's crash -> running
#    against a process unit's and runc's own crash loop.
#
# Every other vigied here runs with --core-pattern leave: only step 4 touches the pattern.
#
# Env knobs: BENCH_PEERS=0 skips step 2; BENCH_REPEAT (default 3) repeats of step 1;
# PEERS_DIR; BENCH_API=0 skips step 3; BENCH_CRASH=0 skips step 4; BENCH_CONTAINER=0 skips
# step 5. Exit status: 0 when every
# measurement ran (whatever the figures), 1 otherwise.
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: bench/run.sh BUILD_DIR" >&2
  exit 2
fi
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "$1" && pwd)
bin=$build/bin
peers_dir=${PEERS_DIR:-$repo/../shared/peers}
repeat=${BENCH_REPEAT:-3}
install_line="apt-get install -y --no-install-recommends supervisor runit s6 daemontools"

for program in restart_latency bench_crasher vigied; do
  if [[ ! -x $bin/$program ]]; then
    echo "bench: $bin/$program is missing; build first (make build)" >&2
    exit 1
  fi
done

work=$(mktemp -d /tmp/vigie-bench.XXXXXX)
# The host's core_pattern as it was: a bench that dies half-way must not leave its helper there.
saved_pattern=$(cat /proc/sys/kernel/core_pattern)
cleanup() {
  if [[ $(cat /proc/sys/kernel/core_pattern) != "$saved_pattern" ]]; then
    echo "bench: core_pattern was left changed; putting \"$saved_pattern\" back" >&2
    printf '%s\n' "$saved_pattern" >/proc/sys/kernel/core_pattern || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

status=0
rows=()  # "column|n|min|median|p99", figures in ms

# µs (the harness's unit) -> ms; "-" stays "-" (no sample).
us_to_ms() {
  awk -v v="$1" 'BEGIN { if (v == "-" || v == "") print "-"; else printf "%.3f", v / 1000 }'
}

echo "== restart_latency: vigied against a bare posix_spawn+waitpid loop (repeats: $repeat)"
if "$bin/restart_latency" --repeat "$repeat" --tsv "$work/restart_latency.tsv"; then
  while IFS=$'\t' read -r column n min median p99; do
    case $column in
      bare) label="bare posix_spawn+waitpid loop (restart_latency, $repeat runs pooled)" ;;
      vigied) label="vigied (restart_latency, $repeat runs pooled)" ;;
      *) continue ;;
    esac
    rows+=("$label|$n|$min|$median|$p99")
  done <"$work/restart_latency.tsv"
else
  status=1
  rows+=("restart_latency|failed, see above|-|-|-")
fi

skipped=()
if [[ ${BENCH_PEERS:-1} == 0 ]]; then
  echo "== peers: skipped (BENCH_PEERS=0)"
elif [[ ! -f $peers_dir/restart_latency.sh ]]; then
  echo "== peers: no harness at $peers_dir (set PEERS_DIR); skipped"
else
  peers_dir=$(cd "$peers_dir" && pwd)
  # The harness folder is read-only: everything it writes goes under our work dir.
  export PEERS_TMP=$work/peers-tmp OUT_DIR=$work/peers-out
  export RESULTS_TSV=$OUT_DIR/results.tsv RAW_DIR=$OUT_DIR/raw
  mkdir -p "$PEERS_TMP" "$OUT_DIR"
  AGENT_CMD=$(printf '%q' "$peers_dir/examples/agent-vigie.sh")
  # The harness's adapter starts $VIGIED without --core-pattern (it is read-only here): a
  # wrapper adds `leave`, so that its crash loop never installs vigied's pattern on the host,
  # and `--cgroups off`, so that a killed run leaves no `vigie` cgroup parent behind.
  printf '#!/bin/bash\nexec %q --core-pattern leave --cgroups off --metrics-listen 127.0.0.1:0 "$@"\n' "$bin/vigied" >"$work/vigied-leave"
  chmod +x "$work/vigied-leave"
  export AGENT_CMD VIGIED=$work/vigied-leave

  # The throttled supervisors restart a crash loop about once a second: 30 restarts are enough
  # to show it and keep the run short. Their time bound stays the harness's default; the
  # unthrottled ones need ~1 s, so a stuck one (a broken vigied) fails after 60 s, not 9 min.
  columns=("floor-spawn 200 60" "agent 200 60")
  for peer in supervisord runit s6 daemontools; do
    case $peer in
      supervisord) probe=supervisord ;;
      runit) probe=runsvdir ;;
      s6) probe=s6-svscan ;;
      daemontools) probe=svscan ;;
    esac
    if command -v "$probe" >/dev/null 2>&1; then
      columns+=("$peer 30 default")
    else
      skipped+=("$peer")
    fi
  done

  echo "== peers: crash loop (exit 1) under ${columns[*]%% *} (harness: $peers_dir)"
  declare -A expected=()
  for entry in "${columns[@]}"; do
    read -r column count bound <<<"$entry"
    expected[$column]=$count
    bound_env=()
    if [[ $bound != default ]]; then
      bound_env=("MAX_SECONDS=$bound")
    fi
    # The harness prints its TSV line on stdout and appends it to RESULTS_TSV; logs go to stderr.
    if ! env "${bound_env[@]}" bash "$peers_dir/restart_latency.sh" "$column" "$count" exit1 \
      >/dev/null; then
      status=1
      rows+=("$column (peers)|failed, see above|-|-|-")
    fi
  done
  if [[ -f $RESULTS_TSV ]]; then
    # supervisor mode uptime_ms n min p50 p90 p99 max mean bad load1 version (µs)
    while IFS=$'\t' read -r column _ _ n min p50 _ p99 _; do
      case $column in
        floor-spawn) label="floor-spawn (peers: floorsup, posix_spawn)" ;;
        agent) label="vigied (peers: agent-vigie.sh)" ;;
        *) label="$column (peers)" ;;
      esac
      # On a timeout the harness still reports what it got, and exits 0.
      if [[ $n != "${expected[$column]:-}" ]]; then
        label="$label, INCOMPLETE (timed out?)"
        status=1
      fi
      rows+=("$label|$n|$(us_to_ms "$min")|$(us_to_ms "$p50")|$(us_to_ms "$p99")")
    done <"$RESULTS_TSV"
  fi
fi
for peer in "${skipped[@]}"; do
  rows+=("$peer|skipped: not installed|-|-|-")
done

load=$(cut -d' ' -f1-3 /proc/loadavg)
echo
echo "## Restart latency, crash loop (exit 1), $(date -u +%Y-%m-%dT%H:%MZ), load $load"
echo
echo "| column | n | min (ms) | median (ms) | p99 (ms) |"
echo "|---|--:|--:|--:|--:|"
for row in "${rows[@]}"; do
  IFS='|' read -r label n min median p99 <<<"$row"
  echo "| $label | $n | $min | $median | $p99 |"
done
if ((${#skipped[@]} > 0)); then
  echo
  echo "Skipped peers (not installed): ${skipped[*]}. To add them as columns, as root:"
  echo "    $install_line"
fi
# 3. The API under load (bench/README.md, "The API under load"): Heartbeat sizes, polls per second
#    and restart latency under a poll storm (heartbeat_qps), vigiectl fleet against 200 agents
#    (fleet_bench). BENCH_API=0 skips it.
if [[ ${BENCH_API:-1} == 0 ]]; then
  echo "== API benchmarks: skipped (BENCH_API=0)"
else
  for program in heartbeat_size heartbeat_qps fleet_bench; do
    echo
    echo "== $program"
    if [[ ! -x $bin/$program ]]; then
      echo "bench: $bin/$program is missing; build first (make build)" >&2
      status=1
    elif ! "$bin/$program"; then
      status=1
    fi
  done
fi
# 4. Crash capture (bench/README.md, "vigie-coredump" and "vigied's incidents"): drain and zstd
#    throughput, crash -> reaped / crash -> spool entry with the helper's phases, and under
#    vigied crash -> restart and crash -> complete incident, core on against `core: false`.
#    They need root (kernel.core_pattern); BENCH_CRASH=0 skips them.
if [[ ${BENCH_CRASH:-1} == 0 ]]; then
  echo "== crash benchmarks: skipped (BENCH_CRASH=0)"
elif [[ $(id -u) != 0 ]]; then
  echo "== crash benchmarks: skipped (they set kernel.core_pattern: run as root)"
else
  for program in coredump_drain coredump_latency crash_incident; do
    echo
    echo "== $program (load $(cut -d' ' -f1-3 /proc/loadavg))"
    if [[ ! -x $bin/$program ]]; then
      echo "bench: $bin/$program is missing; build first (make build)" >&2
      status=1
    elif ! "$bin/$program"; then
      status=1
    fi
  done
fi
# 5. Containers (bench/README.md, "Container units"): crash -> next instance running for a
#    container unit under vigied, against the same crasher as a process unit and runc's own
#    crash loop. Root and runc only (where vigied looks for it); BENCH_CONTAINER=0 skips it.
if [[ ${BENCH_CONTAINER:-1} == 0 ]]; then
  echo "== container_restart: skipped (BENCH_CONTAINER=0)"
elif [[ $(id -u) != 0 ]]; then
  echo "== container_restart: skipped (runc needs root)"
elif ! PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin command -v runc >/dev/null 2>&1; then
  echo "== container_restart: skipped (runc is not installed)"
else
  echo
  echo "== container_restart (load $(cut -d' ' -f1-3 /proc/loadavg))"
  if [[ ! -x $bin/container_restart ]]; then
    echo "bench: $bin/container_restart is missing; build first (make build)" >&2
    status=1
  elif ! "$bin/container_restart"; then
    status=1
  fi
fi
exit "$status"
