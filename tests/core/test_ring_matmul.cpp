// ring_gemm against a naive triple loop: shapes on and off the block sizes (thin and packed
// paths, 1 and several threads), accumulate both ways, wrap-around values, concurrent callers,
// and the charging of worker CPU time to the caller.
#include <catch2/catch.hpp>

#include <time.h>

#include <random>
#include <thread>
#include <vector>

#include "protocols/ring/cpu_meter.h"
#include "protocols/ring/ring_matmul.h"

using namespace marill;

namespace {

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

std::vector<u64> random_values(i64 count, std::mt19937_64& rng) {
  std::vector<u64> v(static_cast<size_t>(count));
  for (auto& x : v) x = rng();
  return v;
}

// C (+)= A * B, one term at a time.
void naive_gemm(const u64* A, const u64* B, u64* C, i64 m, i64 k, i64 n, bool accumulate) {
  for (i64 i = 0; i < m; ++i)
    for (i64 j = 0; j < n; ++j) {
      u64 s = accumulate ? C[i * n + j] : 0;
      for (i64 p = 0; p < k; ++p) s += A[i * k + p] * B[p * n + j];
      C[i * n + j] = s;
    }
}

// Restores the thread setting when a test ends, so tests do not leak it into each other.
struct ThreadsGuard {
  int saved = compute_threads();
  explicit ThreadsGuard(int n) { set_compute_threads(n); }
  ~ThreadsGuard() { set_compute_threads(saved); }
};

// Runs ring_gemm and the naive loop on the same random inputs (C starts random, so a
// non-accumulating call must overwrite it) and checks every entry.
void check_shape(i64 m, i64 k, i64 n, bool accumulate, std::mt19937_64& rng) {
  const auto A = random_values(m * k, rng);
  const auto B = random_values(k * n, rng);
  auto C = random_values(m * n, rng);
  auto want = C;
  naive_gemm(A.data(), B.data(), want.data(), m, k, n, accumulate);
  ring_gemm(A.data(), B.data(), C.data(), m, k, n, accumulate);
  INFO("shape " << m << "x" << k << "x" << n << " accumulate " << accumulate << " threads "
                << compute_threads());
  i64 bad = 0;
  for (size_t i = 0; i < C.size(); ++i) bad += C[i] != want[i];
  CHECK(bad == 0);
}

}  // namespace

TEST_CASE("ring_gemm matches the naive product on small and odd shapes", "[ring_matmul]") {
  std::mt19937_64 rng(12345);
  const std::vector<std::vector<i64>> shapes = {
      {1, 1, 1},    {1, 7, 1},    {1, 1, 9},    {3, 1, 5},     {1, 64, 64},   {1, 129, 65},
      {2, 33, 17},  {5, 40, 31},  {8, 8, 8},    {9, 100, 23},  {16, 16, 24},  {31, 7, 300},
      {32, 64, 64}, {33, 65, 47}, {37, 129, 65}, {64, 1, 64},  {65, 257, 25}, {100, 300, 7},
      {7, 300, 100}, {24, 512, 1}, {130, 70, 50}};
  for (int threads : {1, 2, 3}) {
    ThreadsGuard guard(threads);
    for (const auto& s : shapes)
      for (bool acc : {false, true}) check_shape(s[0], s[1], s[2], acc, rng);
  }
}

TEST_CASE("ring_gemm matches the naive product on large shapes", "[ring_matmul]") {
  std::mt19937_64 rng(777);
  // Big enough (>= 2^22 multiply-adds) to use the thread pool: thin products cut along k, packed
  // ones along columns (33 rows) or rows; several KC / MC / NC blocks, including ragged ones.
  const std::vector<std::vector<i64>> shapes = {
      {512, 512, 512}, {1, 4096, 1100}, {4, 2000, 1031}, {19, 700, 2100},
      {32, 1000, 333}, {33, 777, 401},  {300, 600, 1700}};
  for (int threads : {1, 2}) {
    ThreadsGuard guard(threads);
    for (const auto& s : shapes)
      for (bool acc : {false, true}) check_shape(s[0], s[1], s[2], acc, rng);
  }
}

TEST_CASE("ring_gemm wraps around mod 2^64", "[ring_matmul]") {
  const i64 m = 3, k = 40, n = 50;
  std::vector<u64> A(m * k, ~u64{0}), B(k * n, ~u64{0}), C(m * n, 5);
  // (-1) * (-1) summed k times is k.
  ring_gemm(A.data(), B.data(), C.data(), m, k, n, false);
  for (u64 c : C) REQUIRE(c == static_cast<u64>(k));
  // 2^63 * 2 wraps to 0; accumulate keeps the old value.
  std::fill(A.begin(), A.end(), u64{1} << 63);
  std::fill(B.begin(), B.end(), u64{2});
  ring_gemm(A.data(), B.data(), C.data(), m, k, n, true);
  for (u64 c : C) REQUIRE(c == static_cast<u64>(k));
}

TEST_CASE("ring_gemm with an empty dimension", "[ring_matmul]") {
  std::vector<u64> A(8, 1), B(8, 1), C(16, 7);
  ring_gemm(A.data(), B.data(), C.data(), 4, 0, 4, true);  // adds nothing
  for (u64 c : C) REQUIRE(c == 7);
  ring_gemm(A.data(), B.data(), C.data(), 4, 0, 4, false);  // C = 0
  for (u64 c : C) REQUIRE(c == 0);
  ring_gemm(nullptr, nullptr, nullptr, 0, 5, 5, false);
  ring_gemm(nullptr, nullptr, nullptr, 5, 5, 0, false);
}

TEST_CASE("ring_gemm is safe to call from several threads at once", "[ring_matmul]") {
  ThreadsGuard guard(2);
  const std::vector<std::vector<i64>> shapes = {{256, 300, 256}, {1, 2048, 2048}, {40, 500, 700}};
  bool ok[3] = {false, false, false};
  std::vector<std::thread> parties;
  for (int t = 0; t < 3; ++t)
    parties.emplace_back([&, t] {
      std::mt19937_64 rng(100 + t);
      const i64 m = shapes[t][0], k = shapes[t][1], n = shapes[t][2];
      const auto A = random_values(m * k, rng);
      const auto B = random_values(k * n, rng);
      std::vector<u64> want(static_cast<size_t>(m * n)), C(want.size());
      naive_gemm(A.data(), B.data(), want.data(), m, k, n, false);
      bool all = true;
      for (int rep = 0; rep < 6; ++rep) {
        ring_gemm(A.data(), B.data(), C.data(), m, k, n, rep % 2 == 1);
        if (rep % 2 == 1)
          for (size_t i = 0; i < C.size(); ++i) C[i] -= want[i];  // undo the accumulation
        all = all && C == want;
      }
      ok[t] = all;
    });
  for (auto& p : parties) p.join();
  CHECK(ok[0]);
  CHECK(ok[1]);
  CHECK(ok[2]);
}

TEST_CASE("ring_gemm charges worker CPU time to the caller", "[ring_matmul]") {
  ThreadsGuard guard(2);
  std::mt19937_64 rng(5);
  // A packed product and a thin one (its partials are reduced on the caller).
  for (const auto& s : std::vector<std::vector<i64>>{{512, 512, 512}, {2, 8192, 2048}}) {
    const i64 m = s[0], k = s[1], n = s[2];
    const auto A = random_values(m * k, rng);
    const auto B = random_values(k * n, rng);
    std::vector<u64> C(static_cast<size_t>(m * n));
    ring_gemm(A.data(), B.data(), C.data(), m, k, n);  // warm up (threads, buffers)
    // Nothing of ours runs now, so the process's CPU time is the caller's plus the workers'; all of
    // it must be charged to the caller (without add_offthread_cpu only about half would be). The
    // margin is for idle threads of earlier tests that wake now and then in a full run.
    const double off0 = offthread_cpu_seconds(), party0 = party_cpu_seconds();
    const double process0 = process_cpu_seconds();
    for (int rep = 0; rep < 5; ++rep) ring_gemm(A.data(), B.data(), C.data(), m, k, n);
    const double process = process_cpu_seconds() - process0;
    const double party = party_cpu_seconds() - party0;
    INFO("shape " << m << "x" << k << "x" << n);
    CHECK(offthread_cpu_seconds() >= off0);
    CHECK(party > 0.75 * process);
    CHECK(party < 1.1 * process + 1e-3);
  }
}
