// Process-wide allocator settings for protocol workloads. Call once, first thing in main(), before
// any thread starts.
#pragma once

namespace marill {

// Protocol kernels allocate and free buffers of megabytes on every call (OT extension columns, HE
// polynomials, share tensors). glibc's defaults hand such buffers back to the kernel on free (mmap
// above a threshold, heap trimming, per-thread arenas whose heaps shrink), so each next call
// page-faults the same memory in again. Measured on a 2pc SiLU and a 3pc block
// (`marill bench functions --settings 2pc --functions silu --shape 16384`): about half the process
// time went to page faults and zeroing. Keeping freed memory in one arena removes that; peak
// resident memory is unchanged in those runs. Freed memory is never handed back (no trimming): a party
// process keeps its peak footprint, as a long-running server would, so only the first run of a
// shape touches fresh pages (the compute model of phantom runs charges the steady state, without
// that first touch: docs/phantom.md). Returns false when glibc refused a setting.
// The environment variable MARILL_ARENAS=0 leaves glibc's defaults (for comparisons).
bool tune_allocator_for_protocols();

}  // namespace marill
