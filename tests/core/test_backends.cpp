// Every primitive of every secure setting against the cleartext fixed-point reference.
#include <algorithm>
#include <iterator>
#include <limits>
#include <utility>

#include "tests/core/harness.h"
#include "tests/core/phantom_check.h"

#include "protocols/fss/dcf.h"
#include "protocols/ring/ring.h"

using namespace marill;
using namespace marill::test;

namespace {
const FixedPoint kFxp{};
}

TEST_CASE("input and reveal round-trip exactly in every setting", "[backend]") {
  RingTensor a = random_ring({7, 5}), b = random_ring({7, 5});
  for (Setting s : secure_settings()) {
    INFO(setting_name(s));
    RingTensor got = run_binary(s, a, b, [](Backend& be, const Shared& x, const Shared& y) { return be.add(x, y); });
    CHECK(max_ring_diff(got, marill::add(a, b)) == 0);
  }
}

TEST_CASE("reveal to one party gives the others nothing", "[backend]") {
  for (Setting s : secure_settings()) {
    INFO(setting_name(s));
    SessionConfig cfg;
    cfg.setting = s;
    RingTensor a = random_ring({16});
    std::mutex mu;
    int real_views = 0;
    run_session(cfg, [&](Backend& be) {
      Shared x = be.input(Role::client, be.role() == Role::client ? a : RingTensor::phantom(a.shape()));
      RingTensor v = be.reveal(x, Role::server);
      std::lock_guard<std::mutex> lock(mu);
      if (!v.is_phantom()) {
        ++real_views;
        CHECK(be.role() == Role::server);
        CHECK(max_ring_diff(v, a) == 0);
      }
    });
    CHECK(real_views == 1);
  }
}

TEST_CASE("mul and matmul are exact in every setting", "[backend]") {
  struct Case { Shape a, b; };
  std::vector<Case> mats = {{{1, 1}, {1, 1}}, {{3, 17}, {17, 5}}, {{16, 64}, {64, 8}}, {{2, 4, 6}, {2, 6, 3}}, {{2, 4, 6}, {6, 3}}};
  for (Setting s : secure_settings()) {
    INFO(setting_name(s));
    RingTensor a = random_ring({33, 3}), b = random_ring({33, 3});
    RingTensor got = run_binary(s, a, b, [](Backend& be, const Shared& x, const Shared& y) { return be.mul(x, y); });
    CHECK(max_ring_diff(got, mul_elem(a, b)) == 0);
    for (const auto& c : mats) {
      INFO(shape_str(c.a) << " x " << shape_str(c.b));
      RingTensor x = random_ring(c.a), y = random_ring(c.b);
      RingTensor m = run_binary(s, x, y, [](Backend& be, const Shared& p, const Shared& q) { return be.matmul(p, q); });
      CHECK(max_ring_diff(m, marill::matmul(x, y)) == 0);
    }
  }
}

TEST_CASE("trunc matches the cleartext floor within one unit, up to |x| < 2^62", "[backend]") {
  // Error bound: the result is floor(x / 2^d) or floor(x / 2^d) + 1 (carry of the masked low bits).
  RingTensor x = random_fixed({2000}, -1e4, 1e4, FixedPoint{32});  // products of two 16-bit encodings
  Shape s = x.shape();
  x[0] = (u64{1} << 62) - 1;                        // edges of the promised range
  x[1] = static_cast<u64>(-((i64{1} << 62) - 1));
  x[2] = 0;
  x[3] = static_cast<u64>(i64{-1});
  RingTensor dummy(s);
  for (int d : {1, 16, 30, 62}) {
    RingTensor expect = shift_right_arith(x, d);
    for (Setting st : secure_settings()) {
      INFO(setting_name(st) << " d=" << d);
      RingTensor got = run_binary(st, x, dummy, [d](Backend& be, const Shared& p, const Shared&) { return be.trunc(p, d); });
      i64 off_by_one = 0, wrong = 0;
      for (i64 i = 0; i < x.numel(); ++i) {
        i64 diff = static_cast<i64>(got[i] - expect[i]);
        if (diff == 1) ++off_by_one;
        else if (diff != 0) {
          ++wrong;
          UNSCOPED_INFO("element " << i << " x=" << static_cast<i64>(x[i]) << " got " << static_cast<i64>(got[i]));
        }
      }
      CHECK(wrong == 0);
      CHECK(off_by_one < x.numel());  // +1 when the masked low bits carry (about half the time)
    }
  }
}

TEST_CASE("trunc_square is the square of trunc in every setting, 2pc-dealer on one opening", "[backend]") {
  // y = floor(x / 2^d) or one more (trunc's rounding); the result is y^2 for that y, exactly.
  RingTensor x = random_fixed({1500}, -2.0, 2.0, FixedPoint{56});  // e^(x/4) at the spline's scale
  x[0] = 0;
  x[1] = static_cast<u64>(i64{-1});
  x[2] = (u64{1} << 61) - 1;
  x[3] = static_cast<u64>(-(i64{1} << 61));
  RingTensor dummy(x.shape());
  for (int d : {1, 28, 32, 40}) {
    RingTensor y = shift_right_arith(x, d);
    for (Setting st : secure_settings()) {
      INFO(setting_name(st) << " d=" << d);
      SessionResult res;
      RingTensor got = run_binary(st, x, dummy, [d](Backend& be, const Shared& p, const Shared&) { return be.trunc_square(p, d); }, &res);
      i64 wrong = 0;
      for (i64 i = 0; i < x.numel(); ++i) {
        const u64 lo = y[i] * y[i], hi = (y[i] + 1) * (y[i] + 1);
        if (got[i] != lo && got[i] != hi) ++wrong;
      }
      CHECK(wrong == 0);
      if (st == Setting::two_pc_dealer) {
        for (Role r : {Role::client, Role::server}) CHECK(op_bytes(res, r, "trunc") == static_cast<u64>(8 * x.numel()));
        CHECK(op_rounds(res, "trunc") == 1);
        CHECK(op_bytes(res, Role::dealer, "trunc", Phase::offline) == static_cast<u64>(32 * x.numel()));
      }
    }
    require_phantom_equals_real(Setting::two_pc_dealer, x, dummy, [d](Backend& be, const Shared& p, const Shared&) { return be.trunc_square(p, d); });
  }
}

TEST_CASE("ltz is exact over the whole ring in every setting", "[backend]") {
  RingTensor x = random_ring({777});
  const u64 edges[] = {0, 1, static_cast<u64>(-1), u64{1} << 63, (u64{1} << 63) - 1, (u64{1} << 63) + 1, 2, static_cast<u64>(-2)};
  for (size_t i = 0; i < std::size(edges); ++i) x[static_cast<i64>(i)] = edges[i];
  RingTensor expect = shift_right_logical(x, 63);
  RingTensor dummy(x.shape());
  for (Setting s : secure_settings()) {
    INFO(setting_name(s));
    RingTensor got = run_binary(s, x, dummy, [](Backend& be, const Shared& p, const Shared&) { return be.ltz(p); });
    CHECK(max_ring_diff(got, expect) == 0);
  }
}

TEST_CASE("ltz on a promised bit width is exact in every setting", "[backend]") {
  RingTensor x = random_ring({500});
  const int bits = 40;
  for (i64 i = 0; i < x.numel(); ++i) x[i] = static_cast<u64>(static_cast<i64>(x[i]) >> (64 - bits + 1));  // |x| < 2^39
  x[0] = (u64{1} << 39) - 1;
  x[1] = static_cast<u64>(-(i64{1} << 39));
  x[2] = 0;
  RingTensor expect = shift_right_logical(x, 63), dummy(x.shape());
  for (Setting s : {Setting::cleartext, Setting::three_pc, Setting::two_pc_dealer, Setting::two_pc}) {
    INFO(setting_name(s));
    RingTensor got = run_binary(s, x, dummy, [](Backend& be, const Shared& p, const Shared&) { return be.ltz(p, 40); });
    CHECK(max_ring_diff(got, expect) == 0);
  }
}

TEST_CASE("3pc ltz is exact at every promised width, range edges included, and phantom runs send the same", "[backend][3pc]") {
  // Every width, so every split into chunks of two to four bits and every tree shape (levels with an
  // odd group); 131 elements (one part, the last word of every plane partial) and 581 (three parts).
  for (int bits = 3; bits <= 64; ++bits) {
    for (i64 n : {131, 581}) {
      INFO("bits = " << bits << ", n = " << n);
      RingTensor x = random_ring({n});
      for (i64 i = 0; i < x.numel(); ++i) x[i] = static_cast<u64>(static_cast<i64>(x[i]) >> (64 - bits));  // |x| <= 2^(bits-1)
      const i64 top = bits == 64 ? std::numeric_limits<i64>::max() : (i64{1} << (bits - 1)) - 1;
      const i64 edges[] = {top, -top - 1, 0, -1, 1, top - 1, -top};
      for (size_t i = 0; i < std::size(edges); ++i) x[static_cast<i64>(i)] = static_cast<u64>(edges[i]);
      RingTensor expect = shift_right_logical(x, 63), dummy(x.shape());
      const BinaryOp op = [bits](Backend& be, const Shared& p, const Shared&) { return be.ltz(p, bits); };
      CHECK(max_ring_diff(run_binary(Setting::three_pc, x, dummy, op), expect) == 0);
      require_phantom_equals_real(Setting::three_pc, x, dummy, op);
    }
  }
}

TEST_CASE("ltz and negative_part with dropped low bits are exact where |x| >= 2^low and one of the two answers below, in every setting", "[backend]") {
  for (auto [bits, low] : {std::pair{27, 10}, std::pair{17, 14}, std::pair{64, 20}, std::pair{33, 6}}) {
    INFO("bits = " << bits << ", low = " << low);
    RingTensor x = random_ring({203});
    for (i64 i = 0; i < x.numel(); ++i) x[i] = static_cast<u64>(static_cast<i64>(x[i]) >> (66 - bits));  // |x| < 2^(bits-2)
    // Small values too: most of the rest within a few 2^low of 0.
    for (i64 i = 0; i < 120; ++i) x[i] = static_cast<u64>(static_cast<i64>(x[i]) >> (bits - 2 - std::min(bits - 2, low + 2)));
    const i64 g = i64{1} << low, top = (i64{1} << (bits - 2)) - 1;
    const i64 edges[] = {0, 1, -1, g - 1, -(g - 1), g, -g, g + 1, -g - 1, top, -top};
    for (size_t i = 0; i < std::size(edges); ++i) x[static_cast<i64>(i)] = static_cast<u64>(edges[i]);
    RingTensor dummy(x.shape());
    const BinaryOp cmp = [bits, low](Backend& be, const Shared& p, const Shared&) { return be.ltz(p, bits, low); };
    const BinaryOp neg = [bits, low](Backend& be, const Shared& p, const Shared&) { return be.negative_part(p, bits, low); };
    for (Setting s : {Setting::cleartext, Setting::three_pc, Setting::two_pc_dealer, Setting::two_pc}) {
      INFO(setting_name(s));
      const RingTensor b = run_binary(s, x, dummy, cmp), m = run_binary(s, x, dummy, neg);
      int wrong = 0;
      for (i64 i = 0; i < x.numel(); ++i) {
        const i64 v = static_cast<i64>(x[i]);
        const bool exact = v >= g || v <= -g;
        const u64 sign = v < 0 ? 1 : 0;
        if (exact ? b[i] != sign : b[i] > 1) ++wrong;
        if (exact ? m[i] != (v < 0 ? x[i] : 0) : (m[i] != 0 && m[i] != x[i])) ++wrong;
      }
      CHECK(wrong == 0);
      if (s != Setting::cleartext) {
        require_phantom_equals_real(s, x, dummy, cmp);
        require_phantom_equals_real(s, x, dummy, neg);
      }
    }
  }
}

TEST_CASE("ltz_knots: x against every public threshold in every setting, 2pc-dealer on one key and one opening per element", "[backend]") {
  const int bits = 30;
  const i64 n = 150;
  RingTensor x = random_ring({3, n / 3});
  for (i64 i = 0; i < x.numel(); ++i) x[i] = static_cast<u64>(static_cast<i64>(x[i]) >> (64 - bits + 2));  // |x| < 2^(bits-3)
  const std::vector<i64> knots = {0, 1, -1, 5000, -123456, (i64{1} << (bits - 3)) - 1, -(i64{1} << (bits - 3))};
  std::vector<u64> ring_knots;
  for (i64 k : knots) ring_knots.push_back(static_cast<u64>(k));
  for (size_t i = 0; i < knots.size(); ++i) x[static_cast<i64>(2 * i)] = static_cast<u64>(knots[i]), x[static_cast<i64>(2 * i + 1)] = static_cast<u64>(knots[i] - 1);
  RingTensor expect({static_cast<i64>(knots.size()), n});
  for (size_t k = 0; k < knots.size(); ++k)
    for (i64 e = 0; e < n; ++e) expect[static_cast<i64>(k) * n + e] = static_cast<i64>(x[e]) < knots[k] ? 1 : 0;
  RingTensor dummy(x.shape());
  const BinaryOp op = [&](Backend& be, const Shared& p, const Shared&) { return be.ltz_knots(p, ring_knots, bits); };
  for (Setting s : {Setting::cleartext, Setting::three_pc, Setting::two_pc_dealer, Setting::two_pc}) {
    INFO(setting_name(s));
    SessionResult res;
    const RingTensor got = run_binary(s, x, dummy, op, &res);
    REQUIRE(got.shape() == expect.shape());
    CHECK(max_ring_diff(got, expect) == 0);
    if (s == Setting::two_pc_dealer) {
      for (Role r : {Role::client, Role::server}) CHECK(op_bytes(res, r, "ltz") == static_cast<u64>(8 * n));
      CHECK(op_rounds(res, "ltz") == 1);
      CHECK(op_bytes(res, Role::dealer, "ltz", Phase::offline) == static_cast<u64>(2 * n) * ltz_key_bytes(bits));
    }
    if (s != Setting::cleartext) require_phantom_equals_real(s, x, dummy, op);
  }
}

TEST_CASE("3pc truncations rotate their dealer over thirds and stay exact when a third is empty", "[backend][3pc]") {
  FixedPoint fxp;
  for (i64 n : {1, 2, 3, 64, 65, 200}) {
    INFO("n = " << n);
    RingTensor a = random_fixed({n}, -50, 50, fxp), b = random_fixed({n}, -50, 50, fxp);
    const BinaryOp t = [](Backend& be, const Shared& x, const Shared&) { return be.trunc(x, 12); };
    const BinaryOp mt = [](Backend& be, const Shared& x, const Shared& y) { return be.mul_trunc_bits(x, y, 20); };
    CHECK(max_ring_diff(run_binary(Setting::three_pc, a, b, t), shift_right_arith(a, 12)) <= 1);
    CHECK(max_ring_diff(run_binary(Setting::three_pc, a, b, mt), shift_right_arith(mul_elem(a, b), 20)) <= 1);
    require_phantom_equals_real(Setting::three_pc, a, b, mt);
  }
}

TEST_CASE("select, public ops and fixed-point products agree with cleartext", "[backend]") {
  RingTensor a = random_fixed({64}, -8, 8, kFxp), b = random_fixed({64}, -8, 8, kFxp);
  RingTensor w = random_fixed({64}, -2, 2, kFxp);
  auto program = [&w](Backend& be, const Shared& x, const Shared& y) {
    Shared bit = be.ltz(be.sub(x, y));                 // [x < y]
    Shared m = be.select(bit, y, x);                    // max(x, y)
    Shared p = be.mul_trunc(m, be.add_public(x, w));    // max * (x + w), fixed point
    return be.add_scalar(be.mul_public(p, w), 3);       // * w (no trunc) + 3
  };
  RingTensor ref = run_binary(Setting::cleartext, a, b, program);
  for (Setting s : secure_settings()) {
    INFO(setting_name(s));
    RingTensor got = run_binary(s, a, b, program);
    // one truncation of error <= 1, then scaled by |w| < 2^17 (unscaled multiply)
    CHECK(max_ring_diff(got, ref) <= (u64{1} << 17));
  }
}

TEST_CASE("fixed-point codec", "[ring]") {
  FixedPoint f{16};
  CHECK(f.decode(f.encode(1.5)) == 1.5);
  CHECK(f.decode(f.encode(-3.25)) == -3.25);
  CHECK(f.encode(-1.0) == static_cast<u64>(-65536));
  CHECK_THROWS_WITH(f.encode(1e300), Catch::Contains("overflows"));
}
