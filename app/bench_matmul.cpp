// `marill bench matmul`: the ring GEMM (protocols/ring/ring_matmul.h) at a few shapes, on one thread
// and on compute_threads() threads, against a plain triple loop at 512^3 in the same run.
// Times are the best of --reps calls after one warm-up call; GOP/s counts 2*m*k*n operations.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "app/cli.h"
#include "app/commands.h"
#include "protocols/ring/ring_matmul.h"

namespace marill {
namespace {

struct GemmShape {
  i64 m, k, n;
  const char* note;
};

double gops(const GemmShape& s, double seconds) {
  return 2.0 * static_cast<double>(s.m) * static_cast<double>(s.k) * static_cast<double>(s.n) /
         seconds / 1e9;
}

template <class F>
double best_of(int reps, F&& f) {
  f();  // warm-up: pool threads, scratch buffers, page faults
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

// The baseline: the loop order a compiler vectorises well (-O3 -march=native).
__attribute__((noinline)) void naive_gemm(const u64* A, const u64* B, u64* C, i64 m, i64 k,
                                          i64 n) {
  std::fill(C, C + m * n, u64{0});
  for (i64 i = 0; i < m; ++i)
    for (i64 p = 0; p < k; ++p) {
      const u64 a = A[i * k + p];
      for (i64 j = 0; j < n; ++j) C[i * n + j] += a * B[p * n + j];
    }
}

std::string shape_label(const GemmShape& s) {
  return std::to_string(s.m) + "x" + std::to_string(s.k) + "x" + std::to_string(s.n);
}

}  // namespace

int bench_ring_matmul(int argc, char** argv) {
  Args args(argc, argv, {{"--reps", Opt::integer}}, "usage: marill bench matmul [--reps R]  (default 5)");
  if (args.help()) return 0;
  const int reps = static_cast<int>(args.get_int("--reps", 5, 1, 1000000));

  const std::vector<GemmShape> shapes = {{512, 512, 512, ""},
                                         {1024, 1024, 1024, ""},
                                         {128, 4096, 4096, "prefill-like"},
                                         {1, 4096, 4096, "decode-like"}};
  i64 max_a = 0, max_b = 0, max_c = 0;
  for (const auto& s : shapes) {
    max_a = std::max(max_a, s.m * s.k);
    max_b = std::max(max_b, s.k * s.n);
    max_c = std::max(max_c, s.m * s.n);
  }
  std::mt19937_64 rng(1);
  std::vector<u64> A(static_cast<size_t>(max_a)), B(static_cast<size_t>(max_b));
  std::vector<u64> C(static_cast<size_t>(max_c)), ref(static_cast<size_t>(512 * 512));
  for (auto& x : A) x = rng();
  for (auto& x : B) x = rng();

  const int saved_threads = compute_threads();
  std::vector<int> thread_counts = {1};
  if (saved_threads > 1) thread_counts.push_back(saved_threads);

  std::printf("%-16s %-13s %7s %12s %9s\n", "shape", "", "threads", "best s", "GOP/s");
  const GemmShape base = shapes[0];
  const double t_naive = best_of(std::max(1, reps / 2), [&] {
    naive_gemm(A.data(), B.data(), ref.data(), base.m, base.k, base.n);
  });
  std::printf("%-16s %-13s %7d %12.6f %9.2f\n", shape_label(base).c_str(), "naive loop", 1,
              t_naive, gops(base, t_naive));

  bool mismatch = false;
  double t_base_1 = 0.0, t_base_n = 0.0;
  for (const auto& s : shapes) {
    for (int threads : thread_counts) {
      set_compute_threads(threads);
      const double t = best_of(reps, [&] { ring_gemm(A.data(), B.data(), C.data(), s.m, s.k, s.n); });
      if (&s == &shapes[0]) {
        (threads == 1 ? t_base_1 : t_base_n) = t;
        mismatch = mismatch || !std::equal(ref.begin(), ref.end(), C.begin());
      }
      std::printf("%-16s %-13s %7d %12.6f %9.2f\n", shape_label(s).c_str(), s.note, threads, t,
                  gops(s, t));
    }
  }
  set_compute_threads(saved_threads);

  std::printf("\nring_gemm vs naive loop at %s: %.2fx on 1 thread", shape_label(base).c_str(),
              t_naive / t_base_1);
  if (t_base_n > 0.0) std::printf(", %.2fx on %d threads", t_naive / t_base_n, saved_threads);
  std::printf("\n");
  if (mismatch) {
    std::fprintf(stderr, "marill bench matmul: ring_gemm disagrees with the naive loop\n");
    return 1;
  }
  return 0;
}

}  // namespace marill
