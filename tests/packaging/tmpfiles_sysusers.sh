#!/usr/bin/env bash
# Applies systemd/tmpfiles.d/vigie.conf and systemd/sysusers.d/vigie.conf to an empty root with
# systemd's own tools, as on a host, and checks what they create.
# Usage: tmpfiles_sysusers.sh SOURCE_DIR
set -euo pipefail
source_dir=$1

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
fail() {
    echo "tmpfiles_sysusers: $*" >&2
    exit 1
}

mkdir -p "$root/usr/lib/tmpfiles.d" "$root/usr/lib/sysusers.d" "$root/etc"
cp "$source_dir/systemd/tmpfiles.d/vigie.conf" "$root/usr/lib/tmpfiles.d/"
cp "$source_dir/systemd/sysusers.d/vigie.conf" "$root/usr/lib/sysusers.d/"

systemd-tmpfiles --create --root="$root" vigie.conf
[[ $(stat -c '%a %U' "$root/run/vigie") == "755 root" ]] ||
    fail "/run/vigie: $(stat -c '%a %U' "$root/run/vigie")"
[[ $(stat -c '%a %U' "$root/var/lib/vigie") == "700 root" ]] ||
    fail "/var/lib/vigie: $(stat -c '%a %U' "$root/var/lib/vigie")"

systemd-sysusers --root="$root" vigie.conf
line=$(grep '^vigie:' "$root/etc/group") || fail "no vigie group in $(cat "$root/etc/group")"
gid=$(cut -d: -f3 <<<"$line")
((gid < 1000)) || fail "vigie is not a system group (gid $gid)"
echo "tmpfiles: /run/vigie 0755, /var/lib/vigie 0700; sysusers: $line"
