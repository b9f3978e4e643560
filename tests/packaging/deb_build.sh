#!/usr/bin/env bash
# Builds the Debian package from BUILD_DIR's binaries into OUT_DIR, with the same CPack config
# as `make package` (which writes into build/ instead).
# Usage: deb_build.sh CPACK BUILD_DIR OUT_DIR
set -euo pipefail
cpack=$1
build_dir=$2
out_dir=$3

rm -rf "$out_dir"
mkdir -p "$out_dir"
"$cpack" -G DEB --config "$build_dir/CPackConfig.cmake" -B "$out_dir"
ls -l "$out_dir"/*.deb "$out_dir"/*.ddeb
