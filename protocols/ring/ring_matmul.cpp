// Ring GEMM over Z_2^64: a BLIS-style blocked product.
//
// Packed path, for each chunk of C (a band of rows or of columns, see ring_gemm):
//   for each NC-wide column block, for each KC-deep slice of k:
//     pack B[slice, block] into NR-wide panels (contiguous, zero-padded)
//     for each MC-tall row block: pack A[rows, slice] into MR-tall panels,
//       then run the MR x NR register-blocked micro-kernel over every tile.
// The micro-kernel keeps MR x NR accumulators in registers; with AVX-512DQ each vector op is a
// vpmullq + vpaddq on 8 lanes (Zen 4 issues about one vpmullq per cycle: ~37 GOP/s per core at
// ~2.6 GHz, which the kernel reaches in cache). Integer wrap-around makes the result exact and
// independent of blocking and of how the work is split over threads.
//
// Thin products (m <= kThinMax, e.g. decode's matrix-vector) skip packing: B is streamed row by
// row, once per pass of up to 8 rows of A (see gemm_thin_rows); on several threads they are cut
// along k. Such products are bound by memory bandwidth once B is larger than the caches.
#include "protocols/ring/ring_matmul.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

#include "protocols/ring/cpu_meter.h"
#include "protocols/ring/thread_pool.h"
#include "protocols/ring/work_meter.h"

namespace marill {

namespace {

// ---- vector type: 8 lanes with AVX-512DQ (vpmullq); narrower fallbacks, where GCC emulates the
// 64-bit multiply with 32-bit ones, keep other builds correct (the project builds -march=native).
#if defined(__AVX512F__) && defined(__AVX512DQ__)
constexpr int kLanes = 8;
#elif defined(__AVX2__)
constexpr int kLanes = 4;
#else
constexpr int kLanes = 2;
#endif
typedef u64 vec __attribute__((vector_size(kLanes * 8)));
typedef u64 vec_u __attribute__((vector_size(kLanes * 8), aligned(8)));  // unaligned access

inline vec load_u(const u64* p) { return *reinterpret_cast<const vec_u*>(p); }
inline void store_u(u64* p, vec v) { *reinterpret_cast<vec_u*>(p) = v; }

// ---- blocking parameters (tuned on Zen 4: 32 KiB L1d, 1 MiB L2 per core, shared L3) ----
constexpr int MR = 8;             // rows per micro-tile
constexpr int NV = 3;             // vectors per micro-tile row
constexpr int NR = NV * kLanes;   // columns per micro-tile (MR x NV accumulators + NV + 1 regs)
constexpr i64 KC = 256;           // k slice (B micro-panel KC x NR streams from L1/L2)
constexpr i64 MC = 256 / MR * MR;  // rows per packed A block (MC x KC in L2)
constexpr i64 NC = 1536 / NR * NR;  // columns per packed B block (KC x NC in L3)
// Products with at most this many rows take the unpacked streaming path; it beats packing up
// to about 32 rows (measured), as packing B is then not amortised over enough rows.
constexpr i64 kThinMax = 32;
constexpr int kThinRows = 8;  // most rows per streaming pass
// Below this many multiply-adds (~100 us on one core) a product runs on the calling thread: waking
// a worker costs 5-20 us here and smaller products measured no faster on two threads.
constexpr i64 kParallelMacs = i64{1} << 22;

// ---- micro-kernel: C[0:mr, 0:nr] (+)= Ap (kc x MR panel) * Bp (kc x NR panel) ----
// `overwrite` stores instead of adding (first k slice of a non-accumulating call).
void micro_kernel(i64 kc, const u64* __restrict a, const u64* __restrict b, u64* c, i64 ldc,
                  bool overwrite, int mr, int nr) {
  vec acc[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc[i][v] = vec{};

  for (i64 p = 0; p < kc; ++p) {
    vec bv[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) bv[v] = *reinterpret_cast<const vec*>(b + v * kLanes);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const u64 ai = a[i];
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[i][v] += ai * bv[v];
    }
    a += MR;
    b += NR;
  }

  if (mr == MR && nr == NR) {
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) {
        u64* dst = c + i * ldc + v * kLanes;
        store_u(dst, overwrite ? acc[i][v] : acc[i][v] + load_u(dst));
      }
    return;
  }
  // Edge tile: spill and copy the valid part.
  alignas(64) u64 tile[MR][NR];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) *reinterpret_cast<vec*>(&tile[i][v * kLanes]) = acc[i][v];
  for (int i = 0; i < mr; ++i) {
    u64* dst = c + i * ldc;
    if (overwrite)
      std::memcpy(dst, tile[i], sizeof(u64) * static_cast<size_t>(nr));
    else
      for (int j = 0; j < nr; ++j) dst[j] += tile[i][j];
  }
}

// Ap[panel][p][i] = A[r0 + panel*MR + i][p0 + p], zero-padded to a multiple of MR rows.
void pack_a(const u64* A, i64 lda, i64 rows, i64 kc, u64* ap) {
  for (i64 r = 0; r < rows; r += MR) {
    const int mr = static_cast<int>(std::min<i64>(MR, rows - r));
    const u64* src = A + r * lda;
    if (mr == MR) {
      for (i64 p = 0; p < kc; ++p)
#pragma GCC unroll 16
        for (int i = 0; i < MR; ++i) ap[p * MR + i] = src[i * lda + p];
    } else {
      for (i64 p = 0; p < kc; ++p)
        for (int i = 0; i < MR; ++i) ap[p * MR + i] = i < mr ? src[i * lda + p] : 0;
    }
    ap += kc * MR;
  }
}

// Bp[panel][p][j] = B[p0 + p][c0 + panel*NR + j], zero-padded to a multiple of NR columns.
// Walks B row by row so reads are sequential (prefetch- and TLB-friendly for wide B).
void pack_b(const u64* B, i64 ldb, i64 kc, i64 cols, u64* bp) {
  const i64 full = cols / NR * NR;
  for (i64 p = 0; p < kc; ++p) {
    const u64* src = B + p * ldb;
    u64* dst = bp + p * NR;
    for (i64 c = 0; c < full; c += NR, dst += kc * NR)
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v)
        *reinterpret_cast<vec*>(dst + v * kLanes) = load_u(src + c + v * kLanes);
    if (full < cols) {
      const i64 nr = cols - full;
      std::memcpy(dst, src + full, sizeof(u64) * static_cast<size_t>(nr));
      std::fill(dst + nr, dst + NR, u64{0});
    }
  }
}

// 64-byte aligned scratch that grows on demand; one per thread, reused across calls.
struct Scratch {
  struct Free {
    void operator()(u64* p) const { std::free(p); }
  };
  std::unique_ptr<u64, Free> buf;
  size_t cap = 0;
  u64* get(size_t n) {
    if (n > cap) {
      const size_t bytes = (n * sizeof(u64) + 63) / 64 * 64;
      buf.reset(static_cast<u64*>(std::aligned_alloc(64, bytes)));
      if (!buf) throw std::bad_alloc();
      cap = n;
    }
    return buf.get();
  }
};

// C[r0:r1, c0:c1] (+)= A[r0:r1, :] * B[:, c0:c1]; pointers already offset to (r0, c0).
void gemm_packed(const u64* A, const u64* B, u64* C, i64 m, i64 k, i64 n, i64 lda, i64 ldb,
                 i64 ldc, bool accumulate) {
  thread_local Scratch a_buf, b_buf;
  const i64 mc_max = std::min(MC, (m + MR - 1) / MR * MR);
  const i64 nc_max = std::min(NC, (n + NR - 1) / NR * NR);
  const i64 kc_max = std::min(KC, k);
  u64* ap = a_buf.get(static_cast<size_t>(mc_max * kc_max));
  u64* bp = b_buf.get(static_cast<size_t>(nc_max * kc_max));

  for (i64 jc = 0; jc < n; jc += NC) {
    const i64 nc = std::min(NC, n - jc);
    for (i64 pc = 0; pc < k; pc += KC) {
      const i64 kc = std::min(KC, k - pc);
      const bool overwrite = pc == 0 && !accumulate;
      pack_b(B + pc * ldb + jc, ldb, kc, nc, bp);
      for (i64 ic = 0; ic < m; ic += MC) {
        const i64 mc = std::min(MC, m - ic);
        pack_a(A + ic * lda + pc, lda, mc, kc, ap);
        for (i64 jr = 0; jr < nc; jr += NR) {
          const int nr = static_cast<int>(std::min<i64>(NR, nc - jr));
          for (i64 ir = 0; ir < mc; ir += MR) {
            const int mr = static_cast<int>(std::min<i64>(MR, mc - ir));
            micro_kernel(kc, ap + ir * kc, bp + jr * kc, C + (ic + ir) * ldc + jc + jr, ldc,
                         overwrite, mr, nr);
          }
        }
      }
    }
  }
}

// Thin products (m <= 8 rows) skip packing: B is streamed row by row, kThinStep rows at a time
// (sequential reads, the only pattern that keeps up with memory bandwidth for a wide B), so B is
// read from memory once per call, and each C vector is loaded and stored once per step.
constexpr i64 kThinStep = 8;

// ct[0:M, 0:w] += A[0:M, 0:k] * B[0:k, 0:w]   (ct has row stride ldt)
template <int M>
void thin_update(const u64* A, i64 lda, const u64* B, i64 ldb, u64* ct, i64 ldt, i64 k, i64 w) {
  const i64 wv = w / kLanes * kLanes;
  const i64 kfull = k / kThinStep * kThinStep;
  alignas(64) u64 ap_buf[kThinStep * M];  // ap[q][i] = A[i][p0 + q]
  for (i64 p0 = 0; p0 < kfull; p0 += kThinStep) {
    for (i64 q = 0; q < kThinStep; ++q)
      for (int i = 0; i < M; ++i) ap_buf[q * M + i] = A[i * lda + p0 + q];
    const u64* b = B + p0 * ldb;
    for (i64 j = 0; j < wv; j += kLanes) {
      // Hide that ap is loop-invariant: otherwise GCC hoists M*kThinStep broadcast vectors out of
      // the loop and spills them; re-broadcasting from L1 is cheaper than reloading them.
      const u64* ap = ap_buf;
      asm("" : "+r"(ap));
      vec acc[M];
#pragma GCC unroll 8
      for (int i = 0; i < M; ++i) acc[i] = load_u(ct + i * ldt + j);
#pragma GCC unroll 8
      for (i64 q = 0; q < kThinStep; ++q) {
        const vec bq = load_u(b + q * ldb + j);
#pragma GCC unroll 8
        for (int i = 0; i < M; ++i) acc[i] += ap[q * M + i] * bq;
      }
#pragma GCC unroll 8
      for (int i = 0; i < M; ++i) store_u(ct + i * ldt + j, acc[i]);
    }
    for (i64 j = wv; j < w; ++j)
      for (int i = 0; i < M; ++i) {
        u64 s = ct[i * ldt + j];
        for (i64 q = 0; q < kThinStep; ++q) s += ap_buf[q * M + i] * b[q * ldb + j];
        ct[i * ldt + j] = s;
      }
  }
  for (i64 p = kfull; p < k; ++p) {  // the last k % kThinStep rows of B
    const u64* b = B + p * ldb;
    for (int i = 0; i < M; ++i) {
      const u64 a = A[i * lda + p];
      u64* c = ct + i * ldt;
      for (i64 j = 0; j < w; ++j) c[j] += a * b[j];
    }
  }
}

// One or two rows work on C in place. More rows work on column chunks copied to a buffer whose
// row stride is not a multiple of 4 KiB: with power-of-two widths the rows of C and B otherwise
// all map to the same L1 sets and C's stores falsely alias B's loads (measured ~2x slower).
template <int M>
void gemm_thin_rows(const u64* A, const u64* B, u64* C, i64 k, i64 n, i64 lda, i64 ldb, i64 ldc,
                    bool accumulate) {
  if (M <= 2) {
    if (!accumulate)
      for (int i = 0; i < M; ++i) std::fill(C + i * ldc, C + i * ldc + n, u64{0});
    thin_update<M>(A, lda, B, ldb, C, ldc, k, n);
    return;
  }
  constexpr i64 W = 2048;     // chunk width
  constexpr i64 LDT = W + 8;  // chunk row stride: 64 bytes off a 4 KiB multiple
  thread_local Scratch buf;
  u64* ct = buf.get(static_cast<size_t>(M * LDT));
  for (i64 j0 = 0; j0 < n; j0 += W) {
    const i64 w = std::min(W, n - j0);
    const size_t bytes = sizeof(u64) * static_cast<size_t>(w);
    for (int i = 0; i < M; ++i) {
      if (accumulate)
        std::memcpy(ct + i * LDT, C + i * ldc + j0, bytes);
      else
        std::memset(ct + i * LDT, 0, bytes);
    }
    thin_update<M>(A, lda, B + j0, ldb, ct, LDT, k, w);
    for (int i = 0; i < M; ++i) std::memcpy(C + i * ldc + j0, ct + i * LDT, bytes);
  }
}

// Passes of at most kThinRows rows, balanced (m = 9 is 5 + 4, not 8 + 1), so B is streamed
// ceil(m / 8) times (once for decode's matrix-vector products).
void gemm_thin(const u64* A, const u64* B, u64* C, i64 m, i64 k, i64 n, i64 lda, i64 ldb, i64 ldc,
               bool accumulate) {
  const i64 passes = (m + kThinRows - 1) / kThinRows;
  for (i64 t = 0, r = 0; t < passes; ++t) {
    const i64 rows = m * (t + 1) / passes - r;
    const u64* a = A + r * lda;
    u64* c = C + r * ldc;
    switch (rows) {
      case 1: gemm_thin_rows<1>(a, B, c, k, n, lda, ldb, ldc, accumulate); break;
      case 2: gemm_thin_rows<2>(a, B, c, k, n, lda, ldb, ldc, accumulate); break;
      case 3: gemm_thin_rows<3>(a, B, c, k, n, lda, ldb, ldc, accumulate); break;
      case 4: gemm_thin_rows<4>(a, B, c, k, n, lda, ldb, ldc, accumulate); break;
      case 5: gemm_thin_rows<5>(a, B, c, k, n, lda, ldb, ldc, accumulate); break;
      case 6: gemm_thin_rows<6>(a, B, c, k, n, lda, ldb, ldc, accumulate); break;
      case 7: gemm_thin_rows<7>(a, B, c, k, n, lda, ldb, ldc, accumulate); break;
      default: gemm_thin_rows<8>(a, B, c, k, n, lda, ldb, ldc, accumulate); break;
    }
    r += rows;
  }
}

// Any sub-rectangle of C: rows [r0, r1), columns [c0, c1).
void gemm_block(const u64* A, const u64* B, u64* C, i64 k, i64 n, i64 r0, i64 r1, i64 c0, i64 c1,
                bool accumulate) {
  const i64 rows = r1 - r0, cols = c1 - c0;
  if (rows <= 0 || cols <= 0) return;
  const u64* a = A + r0 * k;
  const u64* b = B + c0;
  u64* c = C + r0 * n + c0;
  if (rows <= kThinMax)
    gemm_thin(a, b, c, rows, k, cols, k, n, n, accumulate);
  else
    gemm_packed(a, b, c, rows, k, cols, k, n, n, accumulate);
}

}  // namespace

void count_gemm_work(i64 m, i64 k, i64 n) {
  if (m <= 0 || n <= 0 || k <= 0) return;
  count_work(m <= kThinMax ? WorkKind::gemm_thin_mac : WorkKind::gemm_mac, m * k * n);
}

void ring_gemm(const u64* A, const u64* B, u64* C, i64 m, i64 k, i64 n, bool accumulate) {
  count_gemm_work(m, k, n);
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!accumulate) std::fill(C, C + m * n, u64{0});
    return;
  }
  const int threads = compute_threads();
  if (threads > 1 && m * k * n >= kParallelMacs) {
    if (m <= kThinMax) {
      // Thin: cut k, so every thread streams whole rows of B (cutting columns shortens the
      // sequential runs, which measured slower). Each slot sums into its own m x n partial (slot
      // 0 into C itself); the partials are added at the end, cheap next to m*k*n.
      const i64 unit = 64;  // rows of B per unit
      const i64 units = (k + unit - 1) / unit;
      const i64 chunks = std::min<i64>(units, i64{threads} * 4);
      if (chunks > 1) {
        const int slots = static_cast<int>(std::min<i64>(threads, chunks));
        thread_local Scratch partial_buf;
        u64* partial = partial_buf.get(static_cast<size_t>((slots - 1) * m * n));
        std::vector<char> used(static_cast<size_t>(slots), 0);
        auto job = [&](int slot, i64 c) {
          const i64 lo = std::min(k, units * c / chunks * unit);
          const i64 hi = std::min(k, units * (c + 1) / chunks * unit);
          u64* dst = slot == 0 ? C : partial + (slot - 1) * m * n;
          const bool acc = used[slot] || (slot == 0 && accumulate);
          gemm_thin(A + lo, B + lo * n, dst, m, hi - lo, n, k, n, n, acc);
          used[slot] = 1;
        };
        if (pool_try_run(slots - 1, chunks, job, WorkKind::gemm_mac)) {
          if (!used[0] && !accumulate) std::fill(C, C + m * n, u64{0});
          for (int s = 1; s < slots; ++s)
            if (used[s]) {
              const u64* p = partial + (s - 1) * m * n;
              for (i64 i = 0; i < m * n; ++i) C[i] += p[i];
            }
          return;
        }
      }
    } else {
      // Cut rows when there are plenty (each chunk packs B on its own, cheap next to its share
      // of the product), else columns (each chunk packs all of A, which is then small).
      const bool by_rows = m >= i64{threads} * 64;
      const i64 unit = by_rows ? 8 * MR : 4 * NR;  // smallest chunk worth its packing
      const i64 extent = by_rows ? m : n;
      const i64 units = (extent + unit - 1) / unit;
      const i64 chunks = std::min<i64>(units, i64{threads} * 4);
      if (chunks > 1) {
        auto job = [&](int, i64 c) {
          const i64 lo = std::min(extent, units * c / chunks * unit);
          const i64 hi = std::min(extent, units * (c + 1) / chunks * unit);
          if (by_rows)
            gemm_block(A, B, C, k, n, lo, hi, 0, n, accumulate);
          else
            gemm_block(A, B, C, k, n, 0, m, lo, hi, accumulate);
        };
        const int helpers = static_cast<int>(std::min<i64>(threads, chunks)) - 1;
        if (pool_try_run(helpers, chunks, job, WorkKind::gemm_mac)) return;
      }
    }
  }
  gemm_block(A, B, C, k, n, 0, m, 0, n, accumulate);
}

}  // namespace marill
