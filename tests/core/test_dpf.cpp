// DPF (y == alpha) with full-domain evaluation: reconstruction at every point, ranges, key
// structure, malformed keys, work counting.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "protocols/fss/dpf.h"
#include "protocols/ring/work_meter.h"
#include "tests/core/fss_test_prg.h"

using namespace marill;

namespace {

Prg test_prg(std::uint8_t tag) { return test::fss_test_prg(tag); }

// count alphas: 0, 2^n - 1, then random; betas random.
void make_inputs(int n, int w, i64 count, Prg& prg, std::vector<u64>& alpha, std::vector<u64>& beta) {
  const u64 m = (u64{1} << n) - 1;
  alpha.assign(static_cast<size_t>(count), 0);
  beta.assign(static_cast<size_t>(count * w), 0);
  for (i64 e = 0; e < count; ++e) alpha[e] = e == 0 ? 0 : e == 1 ? m : prg.next_u64() & m;
  prg.fill(beta.data(), beta.size());
}

std::vector<u64> eval_all(int party, const DpfKeys& k, i64 first, i64 count) {
  std::vector<u64> out(static_cast<size_t>(count << k.n_bits) * static_cast<size_t>(k.width));
  dpf_eval_all_range(party, k, first, count, out.data());
  return out;
}

}  // namespace

TEST_CASE("dpf key size matches the documented layout", "[dpf]") {
  CHECK(dpf_key_bytes(6, 3) == 16 + 96 + 2 + 24);
  CHECK(dpf_key_bytes(6, 1) == 16 + 96 + 2 + 8);
  CHECK(dpf_key_bytes(8, 1) == 16 + 128 + 2 + 8);
  CHECK(dpf_key_bytes(1, 1) == 16 + 16 + 1 + 8);
  CHECK(dpf_key_bytes(5, 2) == 16 + 80 + 2 + 16);
  CHECK(dpf_key_bytes(12, 3) == 16 + 192 + 3 + 24);
  CHECK_THROWS_AS(dpf_key_bytes(0, 1), std::invalid_argument);
  CHECK_THROWS_AS(dpf_key_bytes(13, 1), std::invalid_argument);
  CHECK_THROWS_AS(dpf_key_bytes(6, 0), std::invalid_argument);
  CHECK_THROWS_AS(dpf_key_bytes(6, 4), std::invalid_argument);
}

TEST_CASE("dpf full-domain evaluation reconstructs beta at alpha and 0 elsewhere", "[dpf]") {
  Prg prg = test_prg(1);
  for (int n : {1, 2, 5, 6, 8, 12}) {
    for (int w = 1; w <= 3; ++w) {
      INFO("n_bits = " << n << ", width = " << w);
      const i64 count = n == 12 ? 9 : 101;
      const i64 N = i64{1} << n;
      std::vector<u64> alpha, beta;
      make_inputs(n, w, count, prg, alpha, beta);
      auto keys = dpf_gen(n, alpha.data(), beta.data(), count, prg, w);
      REQUIRE(keys.first.bytes.size() == static_cast<size_t>(count) * dpf_key_bytes(n, w));
      REQUIRE(keys.second.bytes.size() == keys.first.bytes.size());
      const auto y0 = eval_all(0, keys.first, 0, count);
      const auto y1 = eval_all(1, keys.second, 0, count);
      size_t bad = 0;
      for (i64 e = 0; e < count; ++e)
        for (i64 y = 0; y < N; ++y)
          for (int j = 0; j < w; ++j) {
            const size_t i = static_cast<size_t>((e * N + y) * w + j);
            const u64 want = static_cast<u64>(y) == alpha[e] ? beta[e * w + j] : 0;
            bad += y0[i] + y1[i] != want;
          }
      CHECK(bad == 0);

      // Ranges (first > 0, uneven lengths) give the same shares as the whole set.
      for (i64 first : {i64{1}, count / 3, count - 1}) {
        const i64 len = std::min<i64>(count - first, 7 + first % 5);
        for (int p = 0; p < 2; ++p) {
          const auto r = eval_all(p, p ? keys.second : keys.first, first, len);
          const auto& whole = p ? y1 : y0;
          CHECK(std::equal(r.begin(), r.end(), whole.begin() + (first * N) * w));
        }
      }
    }
  }
}

TEST_CASE("dpf keys share correction words and look random alone", "[dpf]") {
  const int n = 6, w = 3;
  const i64 count = 64, N = i64{1} << n;
  Prg prg = test_prg(2);
  std::vector<u64> alpha, beta;
  make_inputs(n, w, count, prg, alpha, beta);
  auto keys = dpf_gen(n, alpha.data(), beta.data(), count, prg, w);
  const size_t K = dpf_key_bytes(n, w);
  size_t same_roots = 0;
  for (i64 e = 0; e < count; ++e) {
    const std::uint8_t* a = keys.first.bytes.data() + e * K;
    const std::uint8_t* b = keys.second.bytes.data() + e * K;
    same_roots += std::memcmp(a, b, 16) == 0;
    CHECK(std::memcmp(a + 16, b + 16, K - 16) == 0);
  }
  CHECK(same_roots == 0);

  // Another dealer seed: other correction words.
  Prg other = test_prg(3);
  auto keys2 = dpf_gen(n, alpha.data(), beta.data(), count, other, w);
  size_t same_cw = 0;
  for (i64 e = 0; e < count; ++e)
    same_cw += std::memcmp(keys.first.bytes.data() + e * K + 16, keys2.first.bytes.data() + e * K + 16, K - 16) == 0;
  CHECK(same_cw == 0);

  // Party 0's shares alone: not beta at alpha, not zero elsewhere.
  const auto y0 = eval_all(0, keys.first, 0, count);
  size_t beta_at_alpha = 0, zero_elsewhere = 0, elsewhere = 0;
  for (i64 e = 0; e < count; ++e)
    for (i64 y = 0; y < N; ++y)
      for (int j = 0; j < w; ++j) {
        const u64 v = y0[static_cast<size_t>((e * N + y) * w + j)];
        if (static_cast<u64>(y) == alpha[e]) {
          beta_at_alpha += v == beta[e * w + j];
        } else {
          ++elsewhere;
          zero_elsewhere += v == 0;
        }
      }
  CHECK(beta_at_alpha == 0);
  CHECK(elsewhere > 0);
  CHECK(zero_elsewhere == 0);
}

TEST_CASE("dpf rejects malformed keys and arguments", "[dpf]") {
  const int n = 5, w = 2;
  const i64 count = 10;
  Prg prg = test_prg(4);
  std::vector<u64> alpha, beta;
  make_inputs(n, w, count, prg, alpha, beta);
  auto keys = dpf_gen(n, alpha.data(), beta.data(), count, prg, w);
  std::vector<u64> out(static_cast<size_t>(count << n) * w);

  DpfKeys truncated = keys.first;
  truncated.bytes.pop_back();
  CHECK_THROWS_AS(dpf_eval_all_range(0, truncated, 0, count, out.data()), std::invalid_argument);
  DpfKeys wrong_count = keys.first;
  wrong_count.count = count + 1;
  CHECK_THROWS_AS(dpf_eval_all_range(0, wrong_count, 0, count, out.data()), std::invalid_argument);
  DpfKeys wrong_width = keys.first;
  wrong_width.width = 1;
  CHECK_THROWS_AS(dpf_eval_all_range(0, wrong_width, 0, count, out.data()), std::invalid_argument);
  DpfKeys wrong_bits = keys.first;
  wrong_bits.n_bits = 13;
  CHECK_THROWS_AS(dpf_eval_all_range(0, wrong_bits, 0, count, out.data()), std::invalid_argument);

  CHECK_THROWS_AS(dpf_eval_all_range(0, keys.first, 1, count, out.data()), std::invalid_argument);
  CHECK_THROWS_AS(dpf_eval_all_range(0, keys.first, -1, 2, out.data()), std::invalid_argument);
  CHECK_THROWS_AS(dpf_eval_all_range(0, keys.first, 0, -1, out.data()), std::invalid_argument);
  CHECK_THROWS_AS(dpf_eval_all_range(0, keys.first, count + 1, 0, out.data()), std::invalid_argument);
  CHECK_THROWS_AS(dpf_eval_all_range(2, keys.first, 0, count, out.data()), std::invalid_argument);
  CHECK_THROWS_AS(dpf_eval_all_range(-1, keys.first, 0, count, out.data()), std::invalid_argument);
  CHECK_NOTHROW(dpf_eval_all_range(0, keys.first, count, 0, out.data()));

  std::vector<u64> bad_alpha = alpha;
  bad_alpha[3] = u64{1} << n;
  CHECK_THROWS_AS(dpf_gen(n, bad_alpha.data(), beta.data(), count, prg, w), std::invalid_argument);
  CHECK_THROWS_AS(dpf_gen(0, alpha.data(), beta.data(), count, prg, w), std::invalid_argument);
  CHECK_THROWS_AS(dpf_gen(n, alpha.data(), beta.data(), count, prg, 4), std::invalid_argument);
  CHECK_THROWS_AS(dpf_gen(n, alpha.data(), beta.data(), -1, prg, w), std::invalid_argument);
}

TEST_CASE("dpf_eval_all_work counts what a real evaluation counts", "[dpf]") {
  Prg prg = test_prg(5);
  for (int n : {1, 6, 8}) {
    for (int w = 1; w <= 3; ++w) {
      INFO("n_bits = " << n << ", width = " << w);
      const i64 count = 37;
      std::vector<u64> alpha, beta;
      make_inputs(n, w, count, prg, alpha, beta);
      auto keys = dpf_gen(n, alpha.data(), beta.data(), count, prg, w);
      std::vector<u64> out(static_cast<size_t>(count << n) * w);

      const WorkCounts before_real = thread_work();
      dpf_eval_all_range(1, keys.second, 3, count - 5, out.data());
      const WorkCounts real = thread_work() - before_real;
      const WorkCounts before_phantom = thread_work();
      dpf_eval_all_work(n, count - 5, w);
      const WorkCounts phantom = thread_work() - before_phantom;
      CHECK(real == phantom);
      CHECK(real[WorkKind::dcf_eval_level] > 0);
    }
  }
}
