#!/usr/bin/env bash
# systemd-analyze verify on systemd/vigie.service, with ExecStart pointed at the built vigied
# (verify checks that the binary exists; the installed unit is verified by deb_install.sh).
# Any message fails the test: verify exits 0 on unknown keys and misspelled directives.
# Usage: verify_unit.sh SOURCE_DIR VIGIED_BINARY
set -euo pipefail
source_dir=$1
vigied=$2

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed "s#^ExecStart=/usr/bin/vigied #ExecStart=$vigied #" "$source_dir/systemd/vigie.service" \
    >"$work/vigie.service"
grep -q "^ExecStart=$vigied " "$work/vigie.service"

status=0
output=$(systemd-analyze verify "$work/vigie.service" 2>&1) || status=$?
if [[ $status -ne 0 || -n $output ]]; then
    echo "systemd-analyze verify failed (exit $status):" >&2
    echo "$output" >&2
    exit 1
fi
echo "systemd-analyze verify: clean"
