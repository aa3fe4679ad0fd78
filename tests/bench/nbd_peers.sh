#!/usr/bin/env bash
# Benchmark: aiops-worker's NBD front-end against the usual NBD servers.
#
# One fio job, identical for every server: 4 KiB random writes, iodepth 32,
# 2 jobs (2 NBD connections, each on its own half of the export), SECONDS
# long, through fio's nbd engine (libnbd). Servers, one after the other in
# the same run, each serving a fresh zero-filled file of SIZE in one work
# directory (so on the same disk): nbdkit's file plugin, qemu-nbd,
# nbd-server, and aiops-worker (volume vol0 of SIZE, served from its write
# log). Prints each server's IOPS and p99 completion latency, the ratio to
# the fastest peer, the versions and the machine, as Markdown for
# tests/bench/RESULTS.md. Not a test: numbers depend on the machine.
#
# Fairness. fio's nbd engine sends plain NBD_CMD_WRITE (no FUA flag) and no
# NBD_CMD_FLUSH (unless FSYNC=N, see below), so what is compared is the
# cost of acknowledging a write that survives the death of the server
# process but not a power cut; every server must still honour FUA and FLUSH
# so a client can make data durable when it asks. Per server:
#
#   server      plain write               FUA write               FLUSH
#   nbdkit      pwrite (page cache)       pwrite + fdatasync      fdatasync
#   qemu-nbd    pwrite (page cache)       write, then fdatasync   fdatasync
#   nbd-server  pwrite (page cache)       pwrite + fdatasync      fsync
#   aiops       append to its log file    append + fdatasync      fdatasync
#               (page cache), applied     of the log              of the log
#               to vol0 by checkpoints
#
# * nbdkit file plugin, cache=default: cache=none would turn every write
#   into write + fdatasync + evict (write-through), far stricter than what
#   the others acknowledge.
# * qemu-nbd --cache=writeback: the counterpart of a worker that
#   acknowledges once the write is in its log file. writethrough/directsync
#   sync every write, none uses O_DIRECT (disk speed, not page cache),
#   unsafe ignores FLUSH, which no server here may do.
# * nbd-server flush=true fua=true: without them it advertises neither, so
#   a client could never make its data durable (3.24, traced: FUA is
#   pwrite + fdatasync, FLUSH is fsync; its manual says FUA may use
#   sync_file_range where built with it, which would be weaker).
#   sync=true (fsync after every write) would be write-through.
#   max_threads stays at its default (4).
# * aiops, log.ack = "written" (the default): a write is acknowledged once
#   it is in the log, and the log is also what the worker keeps and later
#   applies, which is the "while keeping its log" of the target.
# All dirty data is written back (sync -f) before each server starts, so no
# server pays for the previous one's writeback.
#
# Target: aiops at least as many IOPS as the fastest peer (ratio >= 1).
#
# Usage: tests/bench/nbd_peers.sh [SECONDS] [SIZE]     (defaults 30, 256MiB)
# Environment: WORKDIR  parent of the temporary work directory (default
#                       /tmp; choose the disk to measure with it)
#              KEEP=1   keep the work directory (fio JSON, logs, configs)
#              SERVERS  subset and order, default "nbdkit qemu-nbd nbd-server aiops"
#              FSYNC=N  also send a FLUSH every N writes per job (fio --fsync)
# Exit status: 0 if every server ran, 2 if aiops was skipped (no binaries,
# or a worker without an NBD listener), 1 on other errors.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-30}
size_arg=${2:-256MiB}
servers=${SERVERS:-nbdkit qemu-nbd nbd-server aiops}
fsync=${FSYNC:-0}
bin="$src/build/bin"
aiops=$bin/aiops

for tool in fio jq nbdinfo nbdkit qemu-nbd nbd-server ss numfmt; do
  command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 1; }
done
fio --enghelp=nbd >/dev/null 2>&1 || { echo "this fio has no nbd ioengine" >&2; exit 1; }

size_str=${size_arg%iB}
size_str=${size_str%B}
size=$(numfmt --from=iec "$size_str") || { echo "bad SIZE: $size_arg" >&2; exit 1; }
# Each of the 2 jobs writes its own half, in whole 4 KiB blocks.
(( size > 0 && size % 8192 == 0 )) || { echo "SIZE must be a multiple of 8KiB: $size_arg" >&2; exit 1; }
half=$((size / 2))

work=$(mktemp -d "${WORKDIR:-/tmp}/aiops-nbd.XXXXXX")
server_pid=""   # the server running now (nbd-server: its daemon's pid)
fio_pid=""
aiops_cfg=""

alive() {  # pid; a zombie counts as dead (daemons end up under a pid 1 that may not reap)
  local st
  st=$(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $st && $st != Z ]]
}

# TERM, then KILL after GRACE seconds, to the pid and its children, since
# nbd-server serves each connection from a forked child.
stop_pid() {  # pid grace
  local pid=$1 grace=${2:-10} kids=() i p
  [[ -n $pid ]] || return 0
  read -ra kids <<<"$(cat /proc/"$pid"/task/*/children 2>/dev/null || true)"
  kill -TERM "$pid" "${kids[@]}" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do
    alive "$pid" || break
    sleep 0.1
  done
  for p in "$pid" "${kids[@]}"; do
    if alive "$p"; then kill -KILL "$p" 2>/dev/null || true; fi
  done
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  trap - EXIT INT TERM
  stop_pid "$fio_pid" 2
  stop_pid "$server_pid" 5
  [[ -s $work/nbd-server.pid ]] && stop_pid "$(cat "$work/nbd-server.pid")" 5
  if [[ -n $aiops_cfg && -f $aiops_cfg ]]; then
    "$aiops" buffer remove --force --config "$aiops_cfg" >/dev/null 2>&1 || true
  fi
  if [[ -n ${KEEP:-} ]]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A TCP port nobody listens on now (the server binds it a moment later).
used_ports=" "
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 40000))
    [[ $used_ports == *" $p "* ]] && continue
    [[ -z $(ss -Hltn "sport = :$p") ]] && break
  done
  used_ports+="$p "
  echo "$p"
}

# A fresh, fully written file, so no server pays for allocating extents.
make_disk() {  # path
  dd if=/dev/zero of="$1" bs=1M count=$((size / 1048576)) status=none
  (( size % 1048576 == 0 )) || dd if=/dev/zero of="$1" bs=4096 seek=$((size / 4096 - size % 1048576 / 4096)) \
    count=$((size % 1048576 / 4096)) conv=notrunc status=none
  sync -f "$1"
}

wait_nbd() {  # uri pid: until the export answers; fails if the server died or 15 s passed
  local i
  for ((i = 0; i < 150; i++)); do
    alive "$2" || return 1
    nbdinfo --size "$1" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

declare -A iops p99 note
ran=()

# The job. Run in the background and waited for, so that a TERM to this
# script is handled at once (bash runs traps only between commands).
run_fio() {  # name uri
  local name=$1 uri=$2 out=$work/$1.fio.json rc=0
  local extra=()
  (( fsync > 0 )) && extra+=(--fsync="$fsync")
  echo "$name: fio against $uri for ${seconds}s" >&2
  fio --name=nbd-peers --ioengine=nbd --uri="$uri" --rw=randwrite --bs=4k --iodepth=32 \
    --numjobs=2 --size="$half" --offset_increment="$half" --time_based --runtime="$seconds" \
    "${extra[@]}" --group_reporting --output-format=json >"$out.raw" 2>"$work/$name.fio.err" &
  fio_pid=$!
  wait "$fio_pid" || rc=$?
  fio_pid=""
  # The nbd engine prints "fio: connected to NBD server" before the JSON.
  sed -n '/^{/,$p' "$out.raw" >"$out"
  if (( rc != 0 )) || ! jq -e '.jobs[0].error == 0' "$out" >/dev/null 2>&1; then
    echo "$name: fio failed (exit $rc):" >&2
    cat "$work/$name.fio.err" >&2
    note[$name]="fio failed"
    return 1
  fi
  iops[$name]=$(jq -r '.jobs[0].write.iops' "$out")
  p99[$name]=$(jq -r '.jobs[0].write.clat_ns.percentile["99.000000"]' "$out")
  ran+=("$name")
}

serve_nbdkit() {
  local disk=$work/nbdkit.img port
  make_disk "$disk"
  port=$(free_port)
  sync -f "$work"
  # --exit-with-parent: nbdkit goes even if this script is killed with KILL.
  nbdkit -f --exit-with-parent -i 127.0.0.1 -p "$port" -P "$work/nbdkit.pid" \
    file file="$disk" cache=default 2>"$work/nbdkit.log" &
  server_pid=$!
  if wait_nbd "nbd://127.0.0.1:$port/disk" "$server_pid"; then
    run_fio nbdkit "nbd://127.0.0.1:$port/disk" || true
  else
    echo "nbdkit did not start:" >&2; cat "$work/nbdkit.log" >&2; note[nbdkit]="did not start"
  fi
  stop_pid "$server_pid"; server_pid=""
}

serve_qemu_nbd() {
  local disk=$work/qemu-nbd.img port
  make_disk "$disk"
  port=$(free_port)
  sync -f "$work"
  # --shared=2: one connection per fio job; --persistent: nbdinfo's probe
  # connection does not end the server.
  qemu-nbd -f raw -b 127.0.0.1 -p "$port" -x disk --persistent --shared=2 \
    --cache=writeback --aio=threads "$disk" 2>"$work/qemu-nbd.log" &
  server_pid=$!
  if wait_nbd "nbd://127.0.0.1:$port/disk" "$server_pid"; then
    run_fio qemu-nbd "nbd://127.0.0.1:$port/disk" || true
  else
    echo "qemu-nbd did not start:" >&2; cat "$work/qemu-nbd.log" >&2; note[qemu-nbd]="did not start"
  fi
  stop_pid "$server_pid"; server_pid=""
}

serve_nbd_server() {
  local disk=$work/nbd-server.img port i
  make_disk "$disk"
  port=$(free_port)
  # nbd-server -d would serve a single connection and exit, so it runs as
  # the daemon it is (one forked child per connection), tracked by its
  # pid file. filesize: its autodetection reported 0 bytes here.
  cat >"$work/nbd-server.conf" <<EOF
[generic]
port = $port
listenaddr = 127.0.0.1
allowlist = true
[disk]
exportname = $disk
filesize = $size
flush = true
fua = true
EOF
  sync -f "$work"
  nbd-server -C "$work/nbd-server.conf" -p "$work/nbd-server.pid" >"$work/nbd-server.log" 2>&1 || true
  for ((i = 0; i < 50; i++)); do [[ -s $work/nbd-server.pid ]] && break; sleep 0.1; done
  server_pid=$(cat "$work/nbd-server.pid" 2>/dev/null || true)
  if [[ -n $server_pid ]] && wait_nbd "nbd://127.0.0.1:$port/disk" "$server_pid"; then
    run_fio nbd-server "nbd://127.0.0.1:$port/disk" || true
  else
    echo "nbd-server did not start:" >&2; cat "$work/nbd-server.log" >&2; note[nbd-server]="did not start"
  fi
  stop_pid "$server_pid"; server_pid=""
}

aiops_skipped=""
skip_aiops() {
  aiops_skipped=$1
  note[aiops]="skipped"
  echo "aiops: SKIPPED: $1" >&2
}

serve_aiops() {
  if [[ ! -x $aiops || ! -x $bin/aiops-worker ]]; then
    skip_aiops "no $bin/aiops or aiops-worker (build first: share/aiops/setup.sh)"; return
  fi
  local dir=$work/aiops cfg i addr esize
  "$aiops" config init --dir "$dir" >/dev/null
  cfg=$dir/aiops.toml
  aiops_cfg=$cfg
  if ! grep -q '^protocol = "nbd"' "$cfg"; then
    printf '\n[[listener]]\nprotocol = "nbd"\naddress = "127.0.0.1:%s"\n' "$(free_port)" >>"$cfg"
  fi
  # vol0 gets the same size as the peers' files.
  awk -v sz="${size}B" '
    /^\[\[volume\]\]/ { v = 1; mine = 0 } /^\[/ && !/^\[\[volume\]\]/ { v = 0 }
    v && /^name = "vol0"/ { mine = 1 }
    v && mine && /^size = / { $0 = "size = \"" sz "\"" } { print }' "$cfg" >"$cfg.new"
  mv "$cfg.new" "$cfg"
  if ! "$aiops" config check --json "$cfg" >"$dir/check.json" 2>&1; then
    skip_aiops "config check failed: $(jq -r '.error.message // empty' "$dir/check.json" 2>/dev/null)"; return
  fi
  echo "aiops: log.ack = $(jq -r '.config.log.ack' "$dir/check.json")" >&2
  sync -f "$work"
  "$bin/aiops-worker" --config "$cfg" 2>>"$dir/worker.log" &
  server_pid=$!
  for ((i = 0; i < 150; i++)); do
    alive "$server_pid" || break
    "$aiops" status --config "$cfg" --json >"$dir/status.json" 2>/dev/null && break
    sleep 0.1
  done
  if ! alive "$server_pid"; then
    skip_aiops "aiops-worker exited: $(tail -1 "$dir/worker.log" | sed "s/^[^ ]* [^ ]* [a-z]*: //")"
    wait "$server_pid" 2>/dev/null || true; server_pid=""; return
  fi
  addr=$(jq -r '[.listeners[]? | select(.protocol == "nbd") | .address][0] // empty' "$dir/status.json" 2>/dev/null || true)
  if [[ -z $addr ]]; then
    skip_aiops "the worker reports no nbd listener"
  elif ! wait_nbd "nbd://$addr/vol0" "$server_pid"; then
    skip_aiops "nbd://$addr/vol0 does not answer"
  else
    esize=$(nbdinfo --size "nbd://$addr/vol0")
    if [[ $esize != "$size" ]]; then
      skip_aiops "vol0 is $esize bytes, not $size"
    else
      run_fio aiops "nbd://$addr/vol0" || true
    fi
  fi
  # An orderly shutdown may take up to the worker's shutdown_timeout (30s).
  stop_pid "$server_pid" 35; server_pid=""
  "$aiops" buffer remove --force --config "$cfg" >/dev/null 2>&1 || true
}

for s in $servers; do
  case $s in
    nbdkit) serve_nbdkit ;;
    qemu-nbd) serve_qemu_nbd ;;
    nbd-server) serve_nbd_server ;;
    aiops) serve_aiops ;;
    *) echo "unknown server: $s" >&2; exit 1 ;;
  esac
done

# ---- report ----
fs=$(df -T "$work" | awk 'NR == 2 { print $2 " on " $1 }')
mem=$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
echo
echo "Run of $(date -u +%Y-%m-%dT%H:%MZ), commit $(git -C "$src" log -1 --format='%h "%s"' 2>/dev/null || echo unknown)"
echo "Machine: $(nproc) CPUs, $mem RAM, Linux $(uname -r); work directory $(dirname "$work") is $fs"
echo "Job: fio --ioengine=nbd --rw=randwrite --bs=4k --iodepth=32 --numjobs=2 --size=$half" \
  "--offset_increment=$half --time_based --runtime=$seconds$( (( fsync > 0 )) && echo " --fsync=$fsync")" \
  "($(fio --version))"
echo "Versions:"
for s in $servers; do
  case $s in
    nbdkit) v=$(nbdkit --version | head -1) ;;
    qemu-nbd) v=$(qemu-nbd --version | head -1) ;;
    nbd-server) v="nbd-server $(dpkg-query -W -f='${Version}' nbd-server 2>/dev/null || nbd-server -V 2>&1 | awk '{ print $NF; exit }')" ;;
    aiops) v=$("$aiops" --version 2>/dev/null || echo "aiops (not built)") ;;
  esac
  echo "- $v"
done
echo

best=""
best_iops=0
for s in "${ran[@]}"; do
  [[ $s == aiops ]] && continue
  if awk -v a="${iops[$s]}" -v b="$best_iops" 'BEGIN { exit !(a > b) }'; then best=$s; best_iops=${iops[$s]}; fi
done

echo "| server | IOPS | p99 ms | IOPS / fastest peer |"
echo "| --- | --- | --- | --- |"
for s in $servers; do
  if [[ -n ${iops[$s]:-} ]]; then
    awk -v n="$s" -v i="${iops[$s]}" -v p="${p99[$s]}" -v b="$best_iops" 'BEGIN {
      printf "| %s | %.0f | %.2f | %s |\n", n, i, p / 1e6, (b > 0 ? sprintf("%.2f", i / b) : "-") }'
  else
    echo "| $s | - | - | ${note[$s]:-not run} |"
  fi
done
echo
if [[ -n ${iops[aiops]:-} && -n $best ]]; then
  awk -v a="${iops[aiops]}" -v b="$best_iops" -v n="$best" 'BEGIN {
    r = a / b
    printf "aiops / fastest peer (%s): %.2f (target >= 1): %s\n", n, r, (r >= 1 ? "met" : "NOT met") }'
elif [[ -n $aiops_skipped ]]; then
  echo "aiops was skipped ($aiops_skipped): no target check."
elif [[ " $servers " != *" aiops "* ]]; then
  echo "aiops not in SERVERS: no target check."
else
  echo "no target check: aiops or every peer failed."
fi
[[ -z $aiops_skipped ]] || exit 2
