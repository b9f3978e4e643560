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
      cat "$2" >"$pattern"
      rm -f "$2"
    fi
    ;;
  *)
    echo "usage: $0 save|restore FILE" >&2
    exit 2
    ;;
esac
