// The ring matrix multiply: C = A * B over Z_2^64 (row-major, uint64 wrap-around).
// Written for this purpose because LibTorch's int64 matmul reaches only ~8 GOP/s here.
// GOP counts 2*m*k*n operations (a multiply and an add per term), as FLOP counts do.
#pragma once

#include "protocols/ring/ring.h"
#include "protocols/ring/thread_pool.h"  // compute_threads

namespace marill {

// C (m x n) = A (m x k) * B (k x n), or C += A * B when accumulate is true. Splits the work over
// compute_threads() threads and charges their CPU time to the caller (cpu_meter.h).
void ring_gemm(const u64* A, const u64* B, u64* C, i64 m, i64 k, i64 n, bool accumulate = false);
// The work one ring_gemm(m, k, n) call counts (work_meter.h: thin or packed multiply-accumulates);
// ring_gemm counts itself, a phantom product counts through this.
void count_gemm_work(i64 m, i64 k, i64 n);


}  // namespace marill
