#!/bin/sh
# core_pattern_fixture.sh save|restore FILE: the CTest fixture around the crash tests. `save`
# keeps /proc/sys/kernel/core_pattern in FILE; `restore` writes it back (and removes FILE), so
# that the host's pattern survives a crash test that dies half-way.
set -eu
pattern=/proc/sys/kernel/core_pattern
case "${1:-}" in
  save)
    # A leftover FILE means an earlier run never restored: that saved pattern is the real one.
    if [ ! -f "$2" ]; then
      cat "$pattern" >"$2"
    fi
    ;;
  restore)
    if [ -f "$2" ]; then
      saved=$(cat "$2")
      # A saved pipe pattern whose program is gone (saved while a bench or another run of the
      # crash tests had its own helper in place) would send every crash on the host nowhere.
      case $saved in
        "|"*)
          program=${saved#|}
          program=${program%% *}
          if [ ! -x "$program" ]; then
            echo "core_pattern_fixture: the saved pattern pipes to $program, which is gone: core" >&2
            saved=core
          fi
          ;;
      esac
      printf '%s\n' "$saved" >"$pattern"
      rm -f "$2"
    fi
    ;;
  *)
    echo "usage: $0 save|restore FILE" >&2
    exit 2
    ;;
esac
