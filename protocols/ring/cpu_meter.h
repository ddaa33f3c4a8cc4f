// Thread CPU time, for the simulated clock ("compute advances a party's clock by its measured
// thread CPU time"). Kernels that fan work out to worker threads report the workers' CPU time
// back to the calling thread with add_offthread_cpu(), so a party is charged for all its work.
#pragma once

#include "protocols/ring/work_meter.h"

namespace marill {

double thread_cpu_seconds();            // CLOCK_THREAD_CPUTIME_ID of the calling thread
void add_offthread_cpu(double seconds);  // charge worker-thread CPU to the calling thread
double offthread_cpu_seconds();          // total charged so far to the calling thread
// A threaded kernel's speedup on a party's own cores (`marill calibrate` measures it running the
// kernel alone on one thread and on all; process-wide, 1 until set): a parallel section of that
// kind is charged its CPU time divided by it (thread_pool.h), and a phantom run its work's
// seconds divided by it (sim/compute_model.h).
void set_parallel_speedup(WorkKind kind, double speedup);  // speedup >= 1
double parallel_speedup(WorkKind kind);
// CPU seconds charged to the calling thread: its own plus its workers'.
inline double party_cpu_seconds() { return thread_cpu_seconds() + offthread_cpu_seconds(); }

}  // namespace marill
