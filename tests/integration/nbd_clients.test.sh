#!/usr/bin/env bash
# Real NBD clients against an aiops worker: nbdinfo lists the exports,
# qemu-io writes and reads a pattern, nbdcopy copies a file in and out
# byte for byte, nbdsh drives FUA, FLUSH, TRIM, WRITE_ZEROES and the error
# cases (out of range, read-only export, an export the peer may not use),
# and malformed handshakes and requests get the protocol's answers without
# disturbing the worker or its other clients.
. "$(dirname "$0")/functions.sh"
for tool in nbdinfo nbdcopy qemu-io nbdsh; do command -v "$tool" >/dev/null || fail "$tool is missing (share/aiops/setup.sh installs it)"; done
# nbdsh runs "python3 -mnbd": the system interpreter has the nbd module.
nbdsh() { PATH=/usr/bin:$PATH command nbdsh "$@"; }

inst="$TEST_TMP/inst"
init_instance "$inst"
config="$inst/aiops.toml"
cat >>"$config" <<'TOML'

[[export]]
name = "vol1-ro"
volume = "vol1"
client = "bronze-1"
read_only = true

[[export]]
name = "elsewhere"
volume = "vol1"
client = "bronze-2"
allow = ["192.0.2.0/24"]
TOML
start_worker "$config"
pid=$WORKER_PID
aiops status --config "$config" --json >"$TEST_TMP/status.json"
addr=$(jq -r '.listeners[] | select(.protocol == "nbd") | .address' "$TEST_TMP/status.json")
[[ -n $addr ]] || fail "aiops status lists no nbd listener: $(jq -c .listeners "$TEST_TMP/status.json")"
host=${addr%:*} port=${addr##*:}
uri=nbd://$addr

# ---- nbdinfo: the exports this peer may use, with their sizes
expect_exit 0 nbdinfo --list --json "$uri"
jq -e '[.exports[] | {(."export-name"): ."export-size"}] | add == {"vol0": 268435456, "vol1": 268435456, "vol1-ro": 268435456}' \
  "$TEST_TMP/out" >/dev/null || fail "nbdinfo --list: $(jq -c '[.exports[] | [."export-name", ."export-size"]]' "$TEST_TMP/out")"
jq -e '.exports[] | select(."export-name" == "vol1-ro") | .is_read_only == true' "$TEST_TMP/out" >/dev/null \
  || fail "vol1-ro is not read-only in nbdinfo"
jq -e '.exports[] | select(."export-name" == "vol0") | .can_fua and .can_flush and .can_trim and .can_zero and .can_multi_conn' \
  "$TEST_TMP/out" >/dev/null || fail "vol0 lacks a transmission flag: $(cat "$TEST_TMP/out")"
expect_exit 1 nbdinfo "$uri/elsewhere"
expect_exit 1 nbdinfo "$uri/nosuch"

# ---- qemu-io: write a pattern, read it back; zeroes; discard; flush
expect_exit 0 qemu-io -f raw "$uri/vol0" -c 'write -P 0xab 0 1M' -c 'read -P 0xab 0 1M' -c 'write -z 1M 3M' \
  -c 'read -P 0 1M 3M' -c 'discard 8M 1M' -c 'flush'
grep -q "Pattern verification failed" "$TEST_TMP/out" && fail "qemu-io: $(cat "$TEST_TMP/out")"

# ---- nbdcopy: a random file in and out, byte for byte
head -c 40M /dev/urandom >"$TEST_TMP/random.bin"
expect_exit 0 nbdcopy "$TEST_TMP/random.bin" "$uri/vol1"
expect_exit 0 nbdcopy "$uri/vol1" "$TEST_TMP/back.bin"
[[ $(stat -c %s "$TEST_TMP/back.bin") == 268435456 ]] || fail "nbdcopy out: $(stat -c %s "$TEST_TMP/back.bin") bytes"
cmp -n $((40 << 20)) "$TEST_TMP/random.bin" "$TEST_TMP/back.bin" || fail "nbdcopy: the copy out differs from the copy in"

# ---- nbdsh: FUA, FLUSH, TRIM, WRITE_ZEROES and the errors, as a client sees them
cat >"$TEST_TMP/commands.py" <<'PY'
import errno, nbd, os
uri = os.environ["NBD_TEST_URI"]
h = nbd.NBD()
h.set_strict_mode(0)  # send what the server must refuse; do not check it here
h.connect_uri(uri + "/vol0")
size = h.get_size()
assert size == 256 << 20, size
data = bytes(range(256)) * 16
h.pwrite(data, 65536, nbd.CMD_FLAG_FUA)
assert h.pread(4096, 65536) == data
h.flush()
h.zero(8192, 65536 + 1024)                      # WRITE_ZEROES across part of it
assert h.pread(4096, 65536) == data[:1024] + bytes(3072)
h.trim(65536, 1 << 20)                          # accepted; the data may stay
h.zero(4 << 20, 32 << 20, nbd.CMD_FLAG_FUA)     # larger than one request: split by the worker
assert h.pread(1 << 20, 32 << 20) == bytes(1 << 20)
def refused(expected, call, *args):
    try:
        call(*args)
    except nbd.Error as e:
        assert e.errno == errno.errorcode[expected], (call.__name__, e.errno, e.string)  # e.errno is the name
        return
    raise AssertionError(call.__name__ + " was not refused")
refused(errno.EINVAL, h.pread, 4096, size - 2048)       # read past the end
refused(errno.ENOSPC, h.pwrite, data, size - 2048)      # write past the end
refused(errno.ENOSPC, h.zero, 8192, size - 4096)
refused(errno.EINVAL, h.pread, 2 << 20, 0)              # above the advertised maximum
assert h.pread(4096, 65536 + 4096) == bytes(4096)      # the connection is still in step
h.shutdown()
ro = nbd.NBD()
ro.set_strict_mode(0)
ro.connect_uri(uri + "/vol1-ro")
assert ro.is_read_only()
assert len(ro.pread(4096, 0)) == 4096
refused(errno.EPERM, ro.pwrite, data, 0)
refused(errno.EPERM, ro.zero, 4096, 0)
refused(errno.EPERM, ro.trim, 4096, 0)
ro.shutdown()
print("nbdsh: ok")
PY
export NBD_TEST_URI=$uri
expect_exit 0 nbdsh -c "exec(open('$TEST_TMP/commands.py').read())"
expect_in "$TEST_TMP/out" "nbdsh: ok"

# ---- malformed handshakes and requests, on raw sockets
# hexbytes HEX... — the bytes, e.g. hexbytes 49 48 41 56
hexbytes() { local b; for b in "$@"; do printf "\\x$b"; done; }
u32() { printf '%08x' "$1" | sed 's/../& /g'; }
u64() { printf '%016x' "$1" | sed 's/../& /g'; }
# read_hex N — N bytes from fd 3 as hex, or fewer when the server closed.
read_hex() { timeout 5 dd bs=1 count="$1" status=none <&3 | od -An -tx1 -v | tr -d ' \n'; }
open_raw() { exec 3<>"/dev/tcp/$host/$port"; read_hex 18 >/dev/null; }  # the greeting
closed() { [[ -z $(read_hex 1) ]]; }
# expect_option_reply OPTION TYPE_HEX WHAT — the next option reply is TYPE
# for OPTION; its data is read and dropped.
expect_option_reply() {
  local reply
  reply=$(read_hex 20)
  [[ ${reply:0:32} == 0003e889045565a9"$(printf '%08x' "$1")$2" ]] || fail "$3: option reply $reply"
  read_hex $((16#${reply:32:8})) >/dev/null
}
opt_magic="49 48 41 56 45 4f 50 54"

open_raw; hexbytes ff ff ff ff >&3                         # unknown client flags
closed || fail "unknown client flags: the connection stayed open"
open_raw; hexbytes 00 00 00 03 00 00 00 00 00 00 00 00 00 00 00 03 00 00 00 00 >&3  # bad option magic
closed || fail "bad option magic: the connection stayed open"
open_raw; hexbytes 00 00 00 03 $opt_magic $(u32 99) 00 00 00 00 >&3  # an unknown option
expect_option_reply 99 80000001 "unknown option"
hexbytes $opt_magic $(u32 3) $(u32 5000) >&3; head -c 5000 /dev/zero >&3  # LIST with 5000 bytes of data
expect_option_reply 3 80000009 "oversized option"
hexbytes $opt_magic $(u32 3) $(u32 0) >&3                   # a good LIST: still in step
expect_option_reply 3 00000002 "LIST after the oversized option"
exec 3>&-
# Transmission: EXPORT_NAME vol0, then a WRITE above the maximum (its
# payload is read and dropped: EINVAL), then a READ that must still work,
# then a request with a bad magic, which ends the connection.
open_raw
hexbytes 00 00 00 03 $opt_magic $(u32 1) $(u32 4) 76 6f 6c 30 >&3
read_hex 10 >/dev/null                                      # size, flags (no zeroes: we said NO_ZEROES)
hexbytes 25 60 95 13 00 00 00 01 $(u64 7) $(u64 0) $(u32 $((2 << 20))) >&3
head -c $((2 << 20)) /dev/zero >&3
reply=$(read_hex 16)
[[ $reply == 67446698"$(printf '%08x' 22)$(printf '%016x' 7)" ]] || fail "oversized WRITE: reply $reply"
hexbytes 25 60 95 13 00 00 00 00 $(u64 8) $(u64 0) $(u32 16) >&3
reply=$(read_hex 32)
[[ $reply == 67446698"00000000$(printf '%016x' 8)"* && ${#reply} == 64 ]] || fail "READ after the refused WRITE: $reply"
hexbytes de ad be ef 00 00 00 00 $(u64 9) $(u64 0) $(u32 16) >&3
closed || fail "bad request magic: the connection stayed open"
exec 3>&-

# ---- the worker is the same and serves everyone as before
running "$pid" || fail "the worker died"
expect_exit 0 qemu-io -f raw "$uri/vol0" -c 'read -P 0xab 0 64k'
grep -q "Pattern verification failed" "$TEST_TMP/out" && fail "vol0 lost its pattern"
expect_exit 0 aiops status --config "$config" --json
jq -e --argjson pid "$pid" '.pid == $pid' "$TEST_TMP/out" >/dev/null || fail "status: $(cat "$TEST_TMP/out")"
grep -q "NBD client .* opened the export as client gold-1" "$TEST_TMP/worker.log" || fail "no NBD session in the worker log"
