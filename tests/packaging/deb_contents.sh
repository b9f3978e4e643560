#!/usr/bin/env bash
# Inspects the built package without installing it: control fields, Depends against what the
# binaries really link, files and modes, conffiles, maintainer scripts, stripped binaries and
# their debug package.
# Usage: deb_contents.sh OUT_DIR SOURCE_DIR PROGRAMS_LIST
set -euo pipefail
out_dir=$1
source_dir=$2
programs_list=$3

fail() {
    echo "deb_contents: $*" >&2
    exit 1
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

debs=("$out_dir"/vigie_*.deb)
[[ ${#debs[@]} -eq 1 && -f ${debs[0]} ]] || fail "expected one vigie_*.deb in $out_dir"
deb=${debs[0]}

# Control fields.
field() { dpkg-deb -f "$deb" "$1"; }
changelog_version=$(dpkg-parsechangelog -l "$source_dir/packaging/debian/changelog" -S Version)
[[ $(field Package) == vigie ]] || fail "Package: $(field Package)"
[[ $(field Version) == "$changelog_version" ]] ||
    fail "Version $(field Version) is not the changelog's top entry $changelog_version"
[[ $(field Architecture) == $(dpkg --print-architecture) ]] ||
    fail "Architecture: $(field Architecture)"
[[ $(field Section) == admin ]] || fail "Section: $(field Section)"
[[ -n $(field Maintainer) ]] || fail "no Maintainer"
echo "control: vigie $(field Version) $(field Architecture)"

# Depends: every library a shipped binary links directly comes from a package named there.
depends=$(field Depends)
echo "Depends: $depends"
depends_names=$(tr ',' '\n' <<<"$depends" | sed 's/^ *//; s/[ (].*//' | sort -u)
grep -qx adduser <<<"$depends_names" || fail "Depends lacks adduser (postinst uses addgroup)"
# Container units need an OCI runtime and, for init: true, a static init: recommended, not
# required (a node without containers needs neither).
recommends=$(field Recommends)
echo "Recommends: $recommends"
[[ "$recommends" == *"runc | crun"* && "$recommends" == *"tini | catatonit"* ]] ||
  fail "Recommends lacks runc | crun or tini | catatonit (docs/containers.md)"
dpkg-deb -x "$deb" "$work/root"
mapfile -t programs < <(grep -v '^$' "$programs_list")
for program in "${programs[@]}"; do
    binary="$work/root$program"
    [[ -x $binary ]] || fail "$program is not in the package"
    # Whole outputs into variables, never `producer | grep -q`: with pipefail, grep's early exit
    # can fail the producer with SIGPIPE.
    sections=$(readelf -S "$binary")
    ! grep -q '\.debug_info' <<<"$sections" || fail "$program is not stripped"
    cache=$(ldconfig -p)
    while read -r soname; do
        path=$(awk -v s="$soname" '$1 == s && !found {print $NF; found = 1}' <<<"$cache")
        [[ -n $path ]] || fail "$program needs $soname, which this machine cannot resolve"
        owner=""
        for candidate in "$path" "$(realpath "$path")" "/usr$path" "${path#/usr}"; do
            owner=$(dpkg -S "$candidate" 2>/dev/null | sed -n '1s/:.*//p' || true)
            [[ -n $owner ]] && break
        done
        [[ -n $owner ]] || fail "no package owns $path ($soname)"
        # Depends may name the library's package or a virtual package it provides (Debian's
        # shlibs for spdlog name libspdlog1.10-fmt9, provided by libspdlog1.10).
        provides=$(dpkg-query -W -f='${Provides}' "$owner" |
            tr ',' '\n' | sed 's/^ *//; s/[ (].*//')
        grep -qxF -f <(printf '%s\n' "$owner" $provides) <<<"$depends_names" ||
            fail "$program links $soname from $owner, which Depends does not name"
    done < <(readelf -d "$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
    echo "$program: stripped, every NEEDED library's package is in Depends"
done

# Files: what must be there, with root ownership and Debian's modes; nothing in /var or /run
# (the postinst creates those, so remove and purge decide their fate).
listing=$(dpkg-deb -c "$deb")
expect() {
    local mode=$1 path=$2
    grep -qE "^$mode root/root +[0-9]+ [0-9-]+ [0-9:]+ \.$path\$" <<<"$listing" ||
        fail "missing $mode $path in:"$'\n'"$listing"
}
for program in "${programs[@]}"; do expect -rwxr-xr-x "$program"; done
expect -rw-r--r-- /lib/systemd/system/vigie.service
expect -rw-r--r-- /usr/lib/tmpfiles.d/vigie.conf
expect -rw-r--r-- /usr/lib/sysusers.d/vigie.conf
expect -rw-r--r-- /etc/vigie/vigie.yaml
expect drwxr-xr-x /etc/vigie/workloads.d/
expect -rw-r--r-- /etc/vigie/workloads.d/README
expect -rw-r--r-- /usr/share/doc/vigie/copyright
expect -rw-r--r-- /usr/share/doc/vigie/changelog.Debian.gz
expect -rw-r--r-- /usr/share/doc/vigie/install.md
expect -rw-r--r-- /usr/share/lintian/overrides/vigie
grep -qE ' \./(var|run)/' <<<"$listing" && fail "the package ships files under /var or /run"
cmp -s "$work/root/etc/vigie/vigie.yaml" "$source_dir/packaging/vigie.yaml" ||
    fail "/etc/vigie/vigie.yaml is not packaging/vigie.yaml"
cmp -s "$work/root/lib/systemd/system/vigie.service" "$source_dir/systemd/vigie.service" ||
    fail "the unit is not systemd/vigie.service"
echo "files: $(grep -c . <<<"$listing") entries as expected"

# Control area: conffiles and executable maintainer scripts.
mkdir "$work/control"
dpkg-deb -e "$deb" "$work/control"
diff -u <(printf '/etc/vigie/vigie.yaml\n/etc/vigie/workloads.d/README\n') \
    "$work/control/conffiles" || fail "conffiles differ"
for script in postinst prerm postrm; do
    [[ -x $work/control/$script ]] || fail "$script is missing or not executable"
    sh -n "$work/control/$script" || fail "$script is not valid sh"
done
echo "control area: conffiles and postinst, prerm, postrm"

# The debug symbols live in the dbgsym package, by build-id.
ddebs=("$out_dir"/vigie-dbgsym_*.ddeb)
[[ -f ${ddebs[0]} ]] || fail "no vigie-dbgsym .ddeb"
build_id=$(readelf -n "$work/root/usr/bin/vigied" | awk '/Build ID/ {print $3}')
ddeb_listing=$(dpkg-deb -c "${ddebs[0]}")
grep -q "/usr/lib/debug/.build-id/${build_id:0:2}/${build_id:2}.debug" <<<"$ddeb_listing" ||
    fail "vigie-dbgsym has no debug file for vigied's build-id $build_id"
echo "dbgsym: debug info for build-id $build_id"
