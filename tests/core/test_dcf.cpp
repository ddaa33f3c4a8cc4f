// DCF (x < alpha) and the LTZ gate built on it: reconstruction against plain comparison,
// malformed keys, per-element key independence.
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "protocols/fss/dcf.h"
#include "protocols/fss/ltz_gate.h"
#include "tests/core/fss_test_prg.h"

using namespace marill;

namespace {

Prg test_prg(std::uint8_t tag) { return test::fss_test_prg(tag); }

u64 mask_bits(int n) { return n >= 64 ? ~u64{0} : (u64{1} << n) - 1; }

struct Case {
  std::vector<u64> alpha, beta, x;
  void add(u64 a, u64 b, u64 xv) {
    alpha.push_back(a);
    beta.push_back(b);
    x.push_back(xv);
  }
};

// Random alphas plus the edges (0, 1, 2^n - 1), each probed at alpha, alpha +- 1, 0, 2^n - 1
// and a random point.
Case make_case(int n, Prg& prg, int n_random_alpha) {
  const u64 m = mask_bits(n);
  std::vector<u64> alphas = {0, 1 & m, m};
  for (int i = 0; i < n_random_alpha; ++i) alphas.push_back(prg.next_u64() & m);
  Case c;
  for (u64 a : alphas) {
    std::vector<u64> xs = {a, 0, m, prg.next_u64() & m};
    if (a > 0) xs.push_back(a - 1);
    if (a < m) xs.push_back(a + 1);
    for (u64 xv : xs) c.add(a, prg.next_u64(), xv);
  }
  return c;
}

std::vector<u64> reconstruct(const std::pair<DcfKeys, DcfKeys>& k, const std::vector<u64>& x) {
  std::vector<u64> y0(x.size()), y1(x.size());
  dcf_eval(0, k.first, x.data(), y0.data());
  dcf_eval(1, k.second, x.data(), y1.data());
  for (size_t i = 0; i < x.size(); ++i) y0[i] += y1[i];
  return y0;
}

}  // namespace

TEST_CASE("dcf key size matches the documented layout", "[dcf]") {
  CHECK(dcf_key_bytes(64) == 1576);
  CHECK(dcf_key_bytes(63) == 1552);
  CHECK(dcf_key_bytes(32) == 800);
  CHECK(dcf_key_bytes(1) == 16 + 24 + 8 + 1);
  CHECK_THROWS_AS(dcf_key_bytes(0), std::invalid_argument);
  CHECK_THROWS_AS(dcf_key_bytes(65), std::invalid_argument);
  CHECK(ltz_key_bytes(64) == dcf_key_bytes(63) + 8);
}

TEST_CASE("dcf reconstructs beta * (x < alpha)", "[dcf]") {
  Prg prg = test_prg(1);
  for (int n : {1, 2, 8, 17, 63, 64}) {
    INFO("n_bits = " << n);
    Case c = make_case(n, prg, 60);
    auto keys = dcf_gen(n, c.alpha.data(), c.beta.data(), static_cast<i64>(c.x.size()), prg);
    REQUIRE(keys.first.bytes.size() == c.x.size() * dcf_key_bytes(n));
    REQUIRE(keys.second.bytes.size() == c.x.size() * dcf_key_bytes(n));
    auto y = reconstruct(keys, c.x);
    size_t bad = 0;
    for (size_t i = 0; i < c.x.size(); ++i) {
      const u64 want = c.x[i] < c.alpha[i] ? c.beta[i] : 0;
      if (y[i] != want) {
        ++bad;
        UNSCOPED_INFO("alpha " << c.alpha[i] << " x " << c.x[i] << " got " << y[i] << " want "
                               << want);
      }
    }
    CHECK(bad == 0);
  }
}

TEST_CASE("dcf exhaustive on a small domain", "[dcf]") {
  Prg prg = test_prg(2);
  const int n = 4;
  Case c;
  for (u64 a = 0; a < 16; ++a)
    for (u64 xv = 0; xv < 16; ++xv) c.add(a, prg.next_u64(), xv);
  auto keys = dcf_gen(n, c.alpha.data(), c.beta.data(), static_cast<i64>(c.x.size()), prg);
  auto y = reconstruct(keys, c.x);
  for (size_t i = 0; i < c.x.size(); ++i)
    REQUIRE(y[i] == (c.x[i] < c.alpha[i] ? c.beta[i] : 0));
}

TEST_CASE("dcf shares are not the plain output", "[dcf]") {
  // A sanity check on hiding: a single party's share is a pseudo-random value, not 0 / beta.
  Prg prg = test_prg(3);
  const int n = 16;
  std::vector<u64> alpha(64), beta(64, 1), x(64);
  for (size_t i = 0; i < alpha.size(); ++i) {
    alpha[i] = prg.next_u64() & mask_bits(n);
    x[i] = prg.next_u64() & mask_bits(n);
  }
  auto keys = dcf_gen(n, alpha.data(), beta.data(), 64, prg);
  std::vector<u64> y0(64);
  dcf_eval(0, keys.first, x.data(), y0.data());
  int small = 0;
  for (u64 v : y0) small += (v <= 1 || v == ~u64{0});
  CHECK(small == 0);
}

TEST_CASE("dcf rejects malformed keys and inputs", "[dcf]") {
  Prg prg = test_prg(4);
  const int n = 17;
  std::vector<u64> alpha = {5, 100, 70000}, beta = {1, 2, 3}, x = {4, 100, 131071};
  auto keys = dcf_gen(n, alpha.data(), beta.data(), 3, prg);
  std::vector<u64> out(3);
  REQUIRE_NOTHROW(dcf_eval(0, keys.first, x.data(), out.data()));

  DcfKeys k = keys.first;
  k.bytes.pop_back();  // truncated by one byte
  CHECK_THROWS_AS(dcf_eval(0, k, x.data(), out.data()), std::invalid_argument);
  k.bytes.resize(dcf_key_bytes(n));  // whole keys missing
  CHECK_THROWS_AS(dcf_eval(0, k, x.data(), out.data()), std::invalid_argument);
  k.bytes.clear();
  CHECK_THROWS_AS(dcf_eval(0, k, x.data(), out.data()), std::invalid_argument);
  k = keys.first;
  k.bytes.push_back(0);  // trailing garbage
  CHECK_THROWS_AS(dcf_eval(0, k, x.data(), out.data()), std::invalid_argument);
  k = keys.first;
  k.count = 4;  // count larger than the buffer
  CHECK_THROWS_AS(dcf_eval(0, k, x.data(), out.data()), std::invalid_argument);
  k.count = -1;
  CHECK_THROWS_AS(dcf_eval(0, k, x.data(), out.data()), std::invalid_argument);
  k = keys.first;
  k.n_bits = 16;  // size no longer matches
  CHECK_THROWS_AS(dcf_eval(0, k, x.data(), out.data()), std::invalid_argument);
  k.n_bits = 0;
  CHECK_THROWS_AS(dcf_eval(0, k, x.data(), out.data()), std::invalid_argument);
  k.n_bits = 65;
  CHECK_THROWS_AS(dcf_eval(0, k, x.data(), out.data()), std::invalid_argument);

  CHECK_THROWS_AS(dcf_eval(2, keys.first, x.data(), out.data()), std::invalid_argument);
  std::vector<u64> xbig = {4, 100, u64{1} << 17};
  CHECK_THROWS_AS(dcf_eval(0, keys.first, xbig.data(), out.data()), std::invalid_argument);
  std::vector<u64> abig = {5, u64{1} << 17, 7};
  CHECK_THROWS_AS(dcf_gen(n, abig.data(), beta.data(), 3, prg), std::invalid_argument);
  CHECK_THROWS_AS(dcf_gen(0, alpha.data(), beta.data(), 3, prg), std::invalid_argument);

  auto empty = dcf_gen(n, nullptr, nullptr, 0, prg);
  CHECK(empty.first.bytes.empty());
  REQUIRE_NOTHROW(dcf_eval(1, empty.second, nullptr, nullptr));
}

TEST_CASE("dcf keys of different elements are independent", "[dcf]") {
  // More elements than one internal chunk, so chunk boundaries are crossed too.
  Prg prg = test_prg(5);
  const int n = 20;
  const i64 count = 2500;
  const size_t K = dcf_key_bytes(n);
  std::vector<u64> alpha(count), beta(count), x(count);
  for (i64 i = 0; i < count; ++i) {
    alpha[i] = prg.next_u64() & mask_bits(n);
    beta[i] = prg.next_u64();
    x[i] = (i % 3 == 0) ? alpha[i] : prg.next_u64() & mask_bits(n);
  }
  // Equal (alpha, beta) for two elements must still give unrelated keys (fresh root seeds).
  alpha[1] = alpha[0];
  beta[1] = beta[0];
  auto keys = dcf_gen(n, alpha.data(), beta.data(), count, prg);
  CHECK(std::vector<std::uint8_t>(keys.first.bytes.begin(), keys.first.bytes.begin() + 16) !=
        std::vector<std::uint8_t>(keys.first.bytes.begin() + K, keys.first.bytes.begin() + K + 16));

  std::vector<u64> y0(count), y1(count);
  dcf_eval(0, keys.first, x.data(), y0.data());
  dcf_eval(1, keys.second, x.data(), y1.data());
  for (i64 i = 0; i < count; ++i) REQUIRE(y0[i] + y1[i] == (x[i] < alpha[i] ? beta[i] : 0));

  // Any element's key, cut out of the batch, evaluates alone to the same share.
  for (i64 i : {i64{0}, i64{1}, i64{1023}, i64{1024}, count - 1}) {
    DcfKeys one{n, 1, {}};
    one.bytes.assign(keys.second.bytes.begin() + i * K, keys.second.bytes.begin() + (i + 1) * K);
    u64 y = 0;
    dcf_eval(1, one, &x[i], &y);
    CHECK(y == y1[i]);
  }

  // Corrupting one element's key changes nothing for the others.
  DcfKeys bad = keys.first;
  for (size_t b = 7 * K; b < 8 * K; ++b) bad.bytes[b] ^= 0x5a;
  std::vector<u64> z0(count);
  dcf_eval(0, bad, x.data(), z0.data());
  for (i64 i = 0; i < count; ++i)
    if (i != 7) REQUIRE(z0[i] == y0[i]);
}

TEST_CASE("ltz gives shares of (x < 0) from the opened masked value", "[dcf][ltz]") {
  Prg prg = test_prg(6);
  const u64 imin = static_cast<u64>(std::numeric_limits<std::int64_t>::min());
  const u64 imax = static_cast<u64>(std::numeric_limits<std::int64_t>::max());
  std::vector<u64> specials = {0, 1, ~u64{0}, imin, imax, imin + 1, imax - 1, 2, ~u64{1}};

  for (int n : {64, 63, 32, 17, 8, 2}) {
    INFO("n_bits = " << n);
    const u64 m = mask_bits(n);
    const u64 half = u64{1} << (n - 1);
    // x with |x| < 2^(n-1) in two's complement (any x for n = 64), sign-extended to 64 bits.
    auto sext = [&](u64 v) {
      v &= m;
      return (n < 64 && (v & half)) ? (v | ~m) : v;
    };
    std::vector<u64> xs, rs;
    std::vector<u64> r_specials = {0, ~u64{0}, half, half - 1, u64{1}};
    for (u64 s : specials)
      for (u64 r : r_specials) {
        xs.push_back(sext(s));
        rs.push_back(r);
      }
    for (int i = 0; i < 400; ++i) {
      xs.push_back(sext(prg.next_u64()));
      rs.push_back(i % 4 == 0 ? (prg.next_u64() & m) : prg.next_u64());
    }
    const auto count = static_cast<i64>(xs.size());
    auto keys = ltz_gen(n, rs.data(), count, prg);
    REQUIRE(keys.first.dcf.bytes.size() + 8 * keys.first.r_hi.size() ==
            static_cast<size_t>(count) * ltz_key_bytes(n));

    std::vector<u64> xhat(count), y0(count), y1(count);
    for (i64 i = 0; i < count; ++i) {
      xhat[i] = xs[i] + rs[i];               // opened in the full ring ...
      if (i % 2) xhat[i] &= m;               // ... or only its low n bits
    }
    ltz_eval(0, keys.first, xhat.data(), y0.data());
    ltz_eval(1, keys.second, xhat.data(), y1.data());
    for (i64 i = 0; i < count; ++i) {
      const u64 want = static_cast<std::int64_t>(xs[i]) < 0 ? 1 : 0;
      INFO("x " << static_cast<std::int64_t>(xs[i]) << " r " << rs[i]);
      REQUIRE(y0[i] + y1[i] == want);
    }
  }
  // The default is the full ring.
  u64 r = prg.next_u64(), x = imin, xhat = x + r, y0 = 0, y1 = 0;
  auto keys = ltz_gen(&r, 1, prg);
  CHECK(keys.first.n_bits == 64);
  ltz_eval(0, keys.first, &xhat, &y0);
  ltz_eval(1, keys.second, &xhat, &y1);
  CHECK(y0 + y1 == 1);
}

TEST_CASE("ltz rejects malformed keys", "[dcf][ltz]") {
  Prg prg = test_prg(7);
  std::vector<u64> r = {1, 2, 3}, xhat = {4, 5, 6}, out(3);
  auto keys = ltz_gen(r.data(), 3, prg);
  LtzKeys k = keys.first;
  k.r_hi.pop_back();
  CHECK_THROWS_AS(ltz_eval(0, k, xhat.data(), out.data()), std::invalid_argument);
  k = keys.first;
  k.dcf.bytes.resize(k.dcf.bytes.size() - 1);
  CHECK_THROWS_AS(ltz_eval(0, k, xhat.data(), out.data()), std::invalid_argument);
  k = keys.first;
  k.n_bits = 32;
  CHECK_THROWS_AS(ltz_eval(0, k, xhat.data(), out.data()), std::invalid_argument);
  CHECK_THROWS_AS(ltz_gen(1, r.data(), 3, prg), std::invalid_argument);
  CHECK_THROWS_AS(ltz_gen(65, r.data(), 3, prg), std::invalid_argument);
}

TEST_CASE("multi-point and shifted evaluation equal one evaluation per point", "[dcf][ltz]") {
  Prg prg = test_prg(9);
  for (int n : {64, 40, 23, 9}) {
    INFO("n_bits = " << n);
    const u64 m = mask_bits(n);
    const i64 count = 300;  // more than one chunk of 256
    std::vector<u64> r(count), base(count);
    for (i64 e = 0; e < count; ++e) {
      r[e] = prg.next_u64();
      base[e] = prg.next_u64() & m;
    }
    base[0] = 0;  // every shift wraps below zero
    base[1] = m;
    auto keys = ltz_gen(n, r.data(), count, prg);
    // Shifts of mixed sizes, from 0 to the whole domain.
    for (u64 dmax : {u64{0}, u64{5}, u64{1} << (n / 2), m}) {
      INFO("max shift " << dmax);
      std::vector<u64> deltas = {0, dmax / 3, dmax / 2, dmax};
      const int P = static_cast<int>(deltas.size());
      std::vector<u64> pts(static_cast<size_t>(P * count));
      for (int p = 0; p < P; ++p)
        for (i64 e = 0; e < count; ++e) pts[static_cast<size_t>(p * count + e)] = base[e] - deltas[static_cast<size_t>(p)];
      for (int party : {0, 1}) {
        const LtzKeys& k = party ? keys.second : keys.first;
        std::vector<u64> one(pts.size()), multi(pts.size()), shifted(pts.size());
        for (int p = 0; p < P; ++p) ltz_eval(party, k, pts.data() + p * count, one.data() + p * count);
        ltz_eval_points(party, k, pts.data(), P, multi.data());
        ltz_eval_shifts(party, k, base.data(), deltas.data(), P, shifted.data());
        CHECK(multi == one);
        CHECK(shifted == one);
      }
    }
  }
}

TEST_CASE("dcf with a vector payload reconstructs every word, at every point and shift", "[dcf]") {
  Prg prg = test_prg(11);
  CHECK(dcf_key_bytes(20, 3) == 16 + 40 * 20 + 24 + 5);
  CHECK(dcf_key_bytes(20, 2) == dcf_key_bytes(20) + 8 * 21);
  CHECK_THROWS_AS(dcf_key_bytes(20, 4), std::invalid_argument);
  CHECK(ltz_key_bytes(21, 3) == dcf_key_bytes(20, 3) + 24);
  for (int W : {2, 3})
    for (int n : {1, 5, 20, 64}) {
      INFO("width " << W << ", n_bits " << n);
      Case c = make_case(n, prg, 40);
      const i64 count = static_cast<i64>(c.x.size());
      std::vector<u64> beta(static_cast<size_t>(count * W));
      for (u64& b : beta) b = prg.next_u64();
      auto keys = dcf_gen(n, c.alpha.data(), beta.data(), count, prg, W);
      REQUIRE(keys.first.bytes.size() == static_cast<size_t>(count) * dcf_key_bytes(n, W));
      std::vector<u64> y0(static_cast<size_t>(count * W)), y1(y0.size());
      dcf_eval(0, keys.first, c.x.data(), y0.data());
      dcf_eval(1, keys.second, c.x.data(), y1.data());
      size_t bad = 0;
      for (i64 e = 0; e < count; ++e)
        for (int j = 0; j < W; ++j) {
          const size_t i = static_cast<size_t>(j * count + e);
          bad += y0[i] + y1[i] != (c.x[e] < c.alpha[e] ? beta[static_cast<size_t>(e * W + j)] : 0);
        }
      CHECK(bad == 0);
      // Shifted points (the spline gate's knots) agree with one evaluation per point.
      const u64 m = mask_bits(n);
      std::vector<u64> deltas = {0, 1 & m, 3 & m, m / 2};
      std::vector<u64> shifted(static_cast<size_t>(deltas.size()) * y0.size());
      dcf_eval_shifts(0, keys.first, c.x.data(), deltas.data(), static_cast<int>(deltas.size()), shifted.data());
      for (size_t p = 0; p < deltas.size(); ++p) {
        std::vector<u64> pts(c.x.size()), one(y0.size());
        for (i64 e = 0; e < count; ++e) pts[static_cast<size_t>(e)] = (c.x[static_cast<size_t>(e)] - deltas[p]) & m;
        dcf_eval(0, keys.first, pts.data(), one.data());
        CHECK(std::vector<u64>(shifted.begin() + static_cast<long>(p * one.size()), shifted.begin() + static_cast<long>((p + 1) * one.size())) == one);
      }
    }
  // A key buffer of the wrong width is refused.
  std::vector<u64> alpha = {3}, beta = {1, 2};
  auto keys = dcf_gen(8, alpha.data(), beta.data(), 1, prg, 2);
  keys.first.width = 3;
  std::vector<u64> x = {1}, out(3);
  CHECK_THROWS_WITH(dcf_eval(0, keys.first, x.data(), out.data()), Catch::Contains("width 3"));
}

TEST_CASE("ltz with payloads gives shares of the sign bit times each payload word", "[dcf][ltz]") {
  Prg prg = test_prg(12);
  for (int n : {64, 27, 9}) {
    INFO("n_bits = " << n);
    const i64 count = 300;
    const int W = 3;
    std::vector<u64> r(count), x(count), pay(static_cast<size_t>((W - 1) * count)), pay0(pay.size()), pay1(pay.size());
    for (i64 e = 0; e < count; ++e) {
      r[e] = prg.next_u64();
      const u64 lim = u64{1} << (n - 2);
      x[e] = (prg.next_u64() % (2 * lim)) - lim;  // |x| < 2^(n-2)
    }
    for (size_t i = 0; i < pay.size(); ++i) {
      pay[i] = prg.next_u64();
      pay0[i] = prg.next_u64();
      pay1[i] = pay[i] - pay0[i];
    }
    auto keys = ltz_gen(n, r.data(), count, prg, W, pay.data());
    std::vector<u64> xhat(count);
    for (i64 e = 0; e < count; ++e) xhat[e] = x[e] + r[e];
    const std::vector<u64> deltas = {0, 5};
    std::vector<u64> o0(static_cast<size_t>(2 * W * count)), o1(o0.size());
    ltz_eval_payload_shifts(0, keys.first, xhat.data(), deltas.data(), 2, pay0.data(), o0.data());
    ltz_eval_payload_shifts(1, keys.second, xhat.data(), deltas.data(), 2, pay1.data(), o1.data());
    size_t bad = 0;
    for (int p = 0; p < 2; ++p)
      for (int j = 0; j < W; ++j)
        for (i64 e = 0; e < count; ++e) {
          const i64 v = static_cast<i64>(x[e] - deltas[static_cast<size_t>(p)]);
          const u64 pj = j == 0 ? 1 : pay[static_cast<size_t>((j - 1) * count + e)];
          const size_t i = static_cast<size_t>((p * W + j) * count + e);
          bad += o0[i] + o1[i] != (v < 0 ? pj : 0);
        }
    CHECK(bad == 0);
    // The width-1 evaluations refuse payload keys; the payload evaluation wants the shares.
    std::vector<u64> out(static_cast<size_t>(count));
    CHECK_THROWS_WITH(ltz_eval(0, keys.first, xhat.data(), out.data()), Catch::Contains("payload width 3, expected 1"));
    CHECK_THROWS_WITH(ltz_eval_payload_shifts(0, keys.first, xhat.data(), deltas.data(), 1, nullptr, o0.data()), Catch::Contains("no payload shares"));
  }
}

TEST_CASE("dcf and ltz with one-byte value words are exact mod 2^8, 17 B per level and end 4 levels early", "[dcf][ltz]") {
  Prg prg = test_prg(13);
  // Width 1: the last 4 levels are one leaf of 16 bytes (its correction); wider: no early end.
  CHECK(dcf_key_bytes(23, 1, 1) == 16 + 17 * 19 + 16 + 5);
  CHECK(dcf_key_bytes(3, 1, 1) == 16 + 8);  // the whole domain in the leaf
  CHECK(dcf_key_bytes(20, 3, 1) == 16 + 19 * 20 + 3 + 5);
  CHECK(ltz_key_bytes(24, 1, 1) == dcf_key_bytes(23, 1, 1) + 1);
  CHECK_THROWS_WITH(dcf_key_bytes(20, 1, 2), Catch::Contains("value words of 1 or 8 bytes"));
  for (int n : {1, 3, 4, 5, 7, 23, 64}) {
    INFO("n_bits " << n);
    Case c = make_case(n, prg, 60);
    const i64 count = static_cast<i64>(c.x.size());
    std::vector<u64> beta(static_cast<size_t>(count));
    for (u64& b : beta) b = prg.next_u64();
    auto keys = dcf_gen(n, c.alpha.data(), beta.data(), count, prg, 1, 1);
    REQUIRE(keys.first.bytes.size() == static_cast<size_t>(count) * dcf_key_bytes(n, 1, 1));
    std::vector<u64> y0(static_cast<size_t>(count)), y1(y0.size());
    dcf_eval(0, keys.first, c.x.data(), y0.data());
    dcf_eval(1, keys.second, c.x.data(), y1.data());
    size_t bad = 0, full = 0;
    for (i64 e = 0; e < count; ++e) {
      const u64 want = c.x[static_cast<size_t>(e)] < c.alpha[static_cast<size_t>(e)] ? beta[static_cast<size_t>(e)] : 0;
      bad += ((y0[static_cast<size_t>(e)] + y1[static_cast<size_t>(e)] - want) & 0xff) != 0;
      full += y0[static_cast<size_t>(e)] + y1[static_cast<size_t>(e)] == want;
    }
    CHECK(bad == 0);
    if (n > 1) CHECK(full < static_cast<size_t>(count));  // only the low byte is promised, and only it holds
    // Shifted points (shared top levels, then each point's own, then the leaf) agree with one
    // evaluation per point.
    const u64 m = mask_bits(n);
    const std::vector<u64> deltas = {0, 1 & m, 7 & m, 20 & m, m / 2};
    std::vector<u64> shifted(deltas.size() * y0.size()), one(y0.size()), pts(y0.size());
    dcf_eval_shifts(1, keys.second, c.x.data(), deltas.data(), static_cast<int>(deltas.size()), shifted.data());
    for (size_t p = 0; p < deltas.size(); ++p) {
      for (size_t e = 0; e < pts.size(); ++e) pts[e] = (c.x[e] - deltas[p]) & m;
      dcf_eval(1, keys.second, pts.data(), one.data());
      CHECK(std::vector<u64>(shifted.begin() + static_cast<long>(p * one.size()), shifted.begin() + static_cast<long>((p + 1) * one.size())) == one);
    }
    // A key read with the other word size is refused by its size.
    DcfKeys wrong = keys.first;
    wrong.value_bytes = 8;
    CHECK_THROWS_AS(dcf_eval(0, wrong, c.x.data(), y0.data()), std::invalid_argument);
  }
  // ltz on 24 bits with one-byte words: shares of [x < 0] mod 2^8 at every knot shift.
  const int n = 24;
  const i64 count = 500;
  std::vector<u64> xs(count), rs(count);
  for (i64 i = 0; i < count; ++i) {
    xs[static_cast<size_t>(i)] = static_cast<u64>(static_cast<std::int64_t>(prg.next_u64() % (u64{1} << 22)) - (std::int64_t{1} << 21));
    rs[static_cast<size_t>(i)] = prg.next_u64();
  }
  auto keys = ltz_gen(n, rs.data(), count, prg, 1, nullptr, 1);
  CHECK(keys.first.value_bytes == 1);
  const std::vector<u64> deltas = {0, 5, 100, 1000};
  std::vector<u64> base(count), y0(deltas.size() * count), y1(y0.size());
  for (i64 i = 0; i < count; ++i) base[static_cast<size_t>(i)] = (xs[static_cast<size_t>(i)] + rs[static_cast<size_t>(i)]) & mask_bits(n);
  ltz_eval_shifts(0, keys.first, base.data(), deltas.data(), static_cast<int>(deltas.size()), y0.data());
  ltz_eval_shifts(1, keys.second, base.data(), deltas.data(), static_cast<int>(deltas.size()), y1.data());
  size_t bad = 0;
  for (size_t p = 0; p < deltas.size(); ++p)
    for (i64 i = 0; i < count; ++i) {
      const u64 want = static_cast<std::int64_t>(xs[static_cast<size_t>(i)] - deltas[p]) < 0 ? 1 : 0;
      bad += ((y0[p * count + static_cast<size_t>(i)] + y1[p * count + static_cast<size_t>(i)] - want) & 0xff) != 0;
    }
  CHECK(bad == 0);
  // The wire form round-trips with its word size and is refused with another.
  const Bytes wire = ltz_serialize(keys.first);
  CHECK(wire.size() == static_cast<size_t>(count) * ltz_key_bytes(n, 1, 1));
  CHECK_NOTHROW(ltz_deserialize(wire, count, n, 1, 1));
  CHECK_THROWS_WITH(ltz_deserialize(wire, count, n, 1, 8), Catch::Contains("comparison keys of"));
}
