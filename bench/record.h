// Layout of the record file shared by bench_crasher (C) and restart_latency (C++).
//
// The driver creates the file; every crasher instance maps it MAP_SHARED, claims the next slot
// with an atomic fetch_add on `counter` and writes its timestamps there. Plain C so that the
// crasher stays a tiny static C program; fixed-width fields so both sides agree on offsets.
#pragma once

#include <assert.h>
#include <stdint.h>

#define BENCH_RECORD_MAGIC 0x56494749454c4154ULL  // "VIGIELAT"
#define BENCH_RECORD_VERSION 1u

struct BenchRecordHeader {
  uint64_t magic;
  uint32_t version;
  uint32_t runs;   // instances 0..runs-1 crash at once; later ones stay idle.
  uint32_t slots;  // capacity of the slot array that follows the header.
  uint32_t reserved0;
  int64_t idle_deadline_ns;  // CLOCK_MONOTONIC; idle instances exit 0 then, so none lingers.
  uint64_t counter;          // index of the next instance; atomic fetch_add only.
  uint64_t reserved[3];
};

struct BenchRecordSlot {
  int64_t start_ns;  // CLOCK_MONOTONIC at the first statement of main.
  int64_t exit_ns;   // CLOCK_MONOTONIC right before _exit(1); 0 for an idle instance.
  int32_t pid;
  int32_t pad;
};

static_assert(sizeof(struct BenchRecordHeader) == 64, "header layout is shared by two programs");
static_assert(sizeof(struct BenchRecordSlot) == 24, "slot layout is shared by two programs");
