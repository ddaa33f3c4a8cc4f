// The ring kernels' worker threads: one persistent pool per process that a kernel (the ring GEMM,
// DCF evaluation) cuts its work into chunks for. The party's clock is charged for the whole
// section: its CPU time divided by the kernel's parallel speedup (cpu_meter.h), i.e. what the
// section takes on a party's own cores (two, as on a machine of its own), whatever the sharing
// of cores between in-process parties does to the workers' timing.
#pragma once

#include <functional>

#include "protocols/ring/ring.h"
#include "protocols/ring/work_meter.h"

namespace marill {

// Threads used by ring kernels (default: hardware concurrency; 1 disables threading).
int compute_threads();
void set_compute_threads(int n);

// Runs job(slot, c) for every chunk c in [0, chunks) on the caller (slot 0) and up to `helpers`
// pooled workers (slots 1..helpers); a slot is one thread, so per-slot state needs no locking.
// Returns false (running nothing) when the pool is in use by another caller: the caller then runs
// the work itself, so concurrent callers never wait on each other. Charges the section's CPU time
// divided by parallel_speedup(kind) to the caller; rethrows the first exception a chunk threw.
using PoolJob = std::function<void(int slot, i64 chunk)>;
bool pool_try_run(int helpers, i64 chunks, const PoolJob& job, WorkKind kind);

// True on a thread taking chunks of a parallel section (a kernel called there runs on that thread).
bool in_pool_section();

// Runs job(slot, c) for c in [0, chunks) on up to min(compute_threads(), max_slots) threads (on
// the caller alone when the pool is busy, threading is off or there is one chunk): job sees slots
// below max_slots only, so per-slot state sized max_slots needs no locking.
void parallel_chunks(i64 chunks, int max_slots, const PoolJob& job, WorkKind kind);

}  // namespace marill
