// PLACEHOLDER naive kernel until the optimized one lands (helper is replacing this file).
#include "protocols/ring_matmul.h"

#include <algorithm>
#include <thread>

namespace marill {

namespace { int g_threads = 0; }
int compute_threads() { return g_threads > 0 ? g_threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }
void set_compute_threads(int n) { g_threads = n; }

void ring_gemm(const u64* A, const u64* B, u64* C, i64 m, i64 k, i64 n, bool accumulate) {
  if (!accumulate) std::fill(C, C + m * n, 0);
  for (i64 i = 0; i < m; ++i)
    for (i64 p = 0; p < k; ++p) {
      const u64 a = A[i * k + p];
      for (i64 j = 0; j < n; ++j) C[i * n + j] += a * B[p * n + j];
    }
}

}  // namespace marill
