#!/usr/bin/env bash
# The crash helper the package ships (and the image, whose init container copies it to the
# host) is statically linked, and works where no library exists: it runs in an empty root that
# holds only the helper, its config, a spool, /dev/null and /proc, as the kernel starts it (no
# environment, only stdin open). Once with garbage on stdin (the report says FAILED, stage
# notes), once with a real core of a live process taken with gcore (COMPLETE, the core stored,
# frames symbolized from the process's own libc). core_pattern is not touched.
# Usage: static_helper.sh OUT_DIR PROTOC PROTO_DIR
set -euo pipefail
out_dir=$1
protoc=$2
proto_dir=$3
debs=("$out_dir"/vigie_*.deb)
helper_path=/usr/libexec/vigie/vigie-coredump

fail() {
    echo "static_helper: $*" >&2
    exit 1
}
work=$(mktemp -d)
sleeper=""
cleanup() {
    local rc=$?
    [[ -n $sleeper ]] && kill "$sleeper" 2>/dev/null
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT

dpkg-deb -x "${debs[0]}" "$work/pkg"
helper=$work/pkg$helper_path
[[ -x $helper ]] || fail "no $helper_path in the package"

# Linked statically: no program interpreter, no NEEDED library. ldd says "statically linked"
# (and exits 0 for a static-pie binary): the init container's test relies on those words.
kind=$(file -b "$helper")
echo "file: $kind"
grep -qE 'static-pie linked|statically linked' <<<"$kind" || fail "not statically linked"
headers=$(readelf -lW "$helper")
! grep -q 'INTERP' <<<"$headers" || fail "the helper has a program interpreter"
dynamic=$(readelf -dW "$helper")
! grep -q '(NEEDED)' <<<"$dynamic" || fail "the helper needs shared libraries: $dynamic"
ldd_out=$(ldd "$helper" 2>&1 || true)
grep -qE 'statically linked|not a dynamic executable' <<<"$ldd_out" || fail "ldd: $ldd_out"

root=$work/root
mkdir -p "$root/proc" "$root/dev" "$root/spool"
touch "$root/dev/null"
cp "$helper" "$root/vigie-coredump"
echo '{"spool_dir": "/spool", "intake_socket": "/run/none.sock"}' >"$root/helper.json"

# The "crashed" process: alive while the helper reads its /proc entry, as a real one would be.
sleep 1000 &
sleeper=$!

# Runs the helper in the empty root like the kernel does; INPUT is its stdin. The mounts live
# in a private mount namespace, so nothing is left on the host.
run_helper() {
    local input=$1
    unshare -m --propagation private sh -c '
        root=$1; input=$2; shift 2
        mount --bind /proc "$root/proc"
        mount --bind /dev/null "$root/dev/null"
        exec env -i /usr/sbin/chroot "$root" /vigie-coredump -c /helper.json "$@" \
            <"$input" >&- 2>&-
    ' sh "$root" "$input" "$sleeper" "$sleeper" 11 "$(date +%s)" 18446744073709551615 testhost
}

# The helper detaches and finishes in a grandchild: wait for the published entry (a directory
# without .tmp whose report exists), then decode the report.
wait_for_report() {
    local deadline=$((SECONDS + 60)) entry
    while ((SECONDS < deadline)); do
        for entry in "$root"/spool/*; do
            if [[ $entry != *.tmp && -f $entry/report.pb ]]; then
                "$protoc" --proto_path="$proto_dir" --decode=vigie.v1.CaptureReport \
                    vigie/v1/crash.proto <"$entry/report.pb"
                rm -rf "$entry"
                return 0
            fi
        done
        sleep 0.1
    done
    fail "no spool entry within 60 s: $(ls -a "$root/spool")"
}

echo "== garbage on stdin"
head -c 65536 /dev/urandom >"$work/garbage"
run_helper "$work/garbage" || fail "the helper exited $?"
report=$(wait_for_report)
grep -qx 'outcome: CAPTURE_OUTCOME_FAILED' <<<"$report" || fail "report: $report"
grep -qx '  state: CORE_STATE_FAILED' <<<"$report" || fail "core state: $report"
grep -q '^  stage: "notes"' <<<"$report" || fail "no notes error: $report"
grep -qx "  pid: $sleeper" <<<"$report" || fail "the /proc stage did not read pid $sleeper"
echo "report: FAILED, with the process read from /proc and a notes error"

echo "== a real core (gcore of pid $sleeper)"
gcore -o "$work/core" "$sleeper" >/dev/null 2>&1 || fail "gcore failed"
run_helper "$work/core.$sleeper" || fail "the helper exited $?"
report=$(wait_for_report)
grep -qx 'outcome: CAPTURE_OUTCOME_COMPLETE' <<<"$report" || fail "report: $report"
grep -qx '  state: CORE_STATE_STORED' <<<"$report" || fail "core not stored: $report"
# libdw found the crashed process's libc through its /proc/PID/root, not in the empty root.
symbolized=$(grep -B3 -A3 'module: ".*libc\.so\.6"' <<<"$report" | grep -c 'function: ' || true)
((symbolized > 0)) || fail "no symbolized libc frame: $report"
echo "report: COMPLETE, core stored, $symbolized libc frame(s) with a function name"
echo "static_helper: static, and runs with no library in its root"
