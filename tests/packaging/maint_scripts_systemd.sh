#!/usr/bin/env bash
# Runs the package's maintainer scripts as on a host where systemd is PID 1, which this machine
# is not: in a private mount namespace whose /run is a fresh tmpfs holding /run/systemd/system
# (the test the scripts use). systemctl, deb-systemd-invoke and deb-systemd-helper are stubs
# that log their arguments; systemd-sysusers and systemd-tmpfiles run for real. Checks: first
# install creates the group and directories, reloads systemd and starts the unit; an upgrade
# does not restart it; remove stops it; purge deletes state. Cleans up even on failure.
# Usage: maint_scripts_systemd.sh OUT_DIR
set -euo pipefail
out_dir=$1
debs=("$out_dir"/vigie_*.deb)
deb=${debs[0]}

exec 9>/run/lock/vigie-packaging-test.lock
flock -w 900 9
if dpkg-query -W vigie >/dev/null 2>&1 || [[ -e /etc/vigie || -e /var/lib/vigie ]]; then
    echo "maint_scripts_systemd: skipped: vigie is installed here; not touching it"
    exit 77
fi
group_existed=false
getent group vigie >/dev/null && group_existed=true

work=$(mktemp -d)
cleanup() {
    local rc=$?
    rm -rf "$work" /var/lib/vigie /etc/vigie
    if [[ $group_existed == false ]] && getent group vigie >/dev/null; then
        groupdel vigie
    fi
    exit "$rc"
}
trap cleanup EXIT

dpkg-deb -e "$deb" "$work/control"
dpkg-deb -x "$deb" "$work/root"
mkdir -p "$work/stubs"
for tool in systemctl deb-systemd-invoke deb-systemd-helper; do
    printf '#!/bin/sh\necho "%s $*" >>"%s/calls"\n' "$tool" "$work" >"$work/stubs/$tool"
    chmod +x "$work/stubs/$tool"
done

unshare -m --propagation private bash -euo pipefail -c '
work=$1
fail() { echo "maint_scripts_systemd: $*" >&2; exit 1; }
mount -t tmpfs tmpfs /run
mkdir -p /run/systemd/system
# The package'"'"'s sysusers.d and tmpfiles.d files, where the postinst names them, seen only here.
for conf in sysusers.d tmpfiles.d; do
    mount -t tmpfs tmpfs "/usr/lib/$conf"
    cp "$work/root/usr/lib/$conf/vigie.conf" "/usr/lib/$conf/"
done
export PATH="$work/stubs:$PATH"
calls() { cat "$work/calls" 2>/dev/null; : >"$work/calls"; }

echo "== postinst configure (first install)"
sh "$work/control/postinst" configure
log=$(calls)
echo "$log"
getent group vigie >/dev/null || fail "systemd-sysusers did not create the vigie group"
[[ $(stat -c %a /var/lib/vigie) == 700 && $(stat -c %a /run/vigie) == 755 ]] ||
    fail "systemd-tmpfiles did not create the directories"
grep -qx "systemctl --system daemon-reload" <<<"$log" || fail "no daemon-reload"
grep -qx "deb-systemd-helper enable vigie.service" <<<"$log" || fail "the unit was not enabled"
grep -qx "deb-systemd-invoke start vigie.service" <<<"$log" || fail "the agent was not started"

echo "== postinst configure 0.0.9 (upgrade)"
message=$(sh "$work/control/postinst" configure 0.0.9 2>&1)
log=$(calls)
echo "$log"; echo "$message"
grep -q "deb-systemd-invoke" <<<"$log" && fail "an upgrade must not restart the agent"
grep -q "systemctl restart vigie" <<<"$message" || fail "an upgrade must say how to restart"

echo "== prerm upgrade, prerm remove"
sh "$work/control/prerm" upgrade 0.2.0
[[ -z $(calls) ]] || fail "prerm upgrade must leave the agent running"
sh "$work/control/prerm" remove
grep -qx "deb-systemd-invoke stop vigie.service" <<<"$(calls)" || fail "prerm remove did not stop"

echo "== postrm remove, postrm purge"
sh "$work/control/postrm" remove
[[ -d /var/lib/vigie ]] || fail "postrm remove deleted /var/lib/vigie"
sh "$work/control/postrm" purge
log=$(calls)
echo "$log"
grep -qx "deb-systemd-helper purge vigie.service" <<<"$log" || fail "purge kept the enablement"
[[ ! -e /var/lib/vigie && ! -e /run/vigie ]] || fail "purge left the directories"
' bash "$work"
echo "maint_scripts_systemd: install starts, upgrade keeps running, remove stops, purge cleans"
