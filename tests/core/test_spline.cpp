// Spline gates (protocols/fss/spline.h, Backend::spline): the fit, the ring form, the gate in every
// setting against the ring form, its cost in 2pc-dealer, phantom runs, bad tables.
#include "tests/core/harness.h"
#include "tests/core/phantom_check.h"

#include <cmath>

#include "protocols/fss/dcf.h"
#include "protocols/fss/dpf.h"
#include "protocols/fss/spline.h"
#include "protocols/fss/spline_gate.h"

using namespace marill;
using namespace marill::test;

namespace {

const FixedPoint kFxp{};
const double kUlp = 1.0 / 65536;

double silu_ref(double x) { return x / (1 + std::exp(-x)); }

SplineTable silu_table(double tol = 3e-5) {
  SplineFit f;
  f.name = "silu";
  f.f = silu_ref;
  f.lo = tol < 1e-5 ? -16 : -14;  // |silu(x)| < 1.2e-5 below -14, < 1.8e-6 below -16
  f.hi = -f.lo;
  f.right_tail.b = {0, 1, 0};  // x
  f.tol = tol;
  f.in_bound = 1024;
  f.out_bound = 1024;
  return fit_spline(f);
}

// Inputs: random, every knot, one ulp below every knot, the tails, the bound.
RingTensor probe_inputs(const SplineTable& t, i64 random_count) {
  std::vector<double> v;
  RingTensor r = random_fixed({random_count}, -t.in_bound, t.in_bound, kFxp);
  for (double x : kFxp.decode(r)) v.push_back(x);
  RingTensor mid = random_fixed({random_count}, t.knots.front() - 1, t.knots.back() + 1, kFxp);
  for (double x : kFxp.decode(mid)) v.push_back(x);
  for (double k : t.knots) {
    v.push_back(k);
    v.push_back(k - kUlp);
  }
  for (double x : {-t.in_bound, t.in_bound, 0.0, -kUlp}) v.push_back(x);
  return kFxp.encode(v, {static_cast<i64>(v.size())});
}

// e^(x/4) on [-20, 0] to a relative tolerance, with its Taylor tail at 0 (exp's spline).
SplineFit exp_quarter_fit(double tol, double in_bound) {
  SplineFit f;
  f.name = "exp(x/4)";
  f.f = [](double v) { return std::exp(v / 4); };
  f.lo = -20;
  f.hi = 0;
  f.right_tail.b = {1, 0.25, 1.0 / 32};
  f.tol = tol;
  f.relative = true;
  f.in_bound = in_bound;
  f.out_bound = 1;
  return f;
}

const BinaryOp gate(const SplineTable& t) {
  return [t](Backend& be, const Shared& x, const Shared&) { return be.spline(x, t); };
}

}  // namespace

TEST_CASE("spline fit: error within tolerance, judged on the ring form, tails included", "[spline]") {
  SplineTable t = silu_table();
  CHECK(t.max_error <= 3e-5);
  CHECK(t.degree == 2);
  CHECK(t.num_pieces() < 60);
  CHECK(t.cmp_shift == 10);  // knots on a grid of 1/64: comparisons on 10 fewer bits
  double err = 0;
  for (double x = -40; x <= 40; x += 1.0 / 512)
    for (int carry : {0, 1}) err = std::max(err, std::fabs(spline_eval_ring(t, x, carry) - silu_ref(x)));
  CHECK(err <= 1.05 * 3e-5);  // the fit samples 257 points per piece; tails: |silu(x)| < 1.2e-5 below -14, |silu(x) - x| < 1.2e-5 above 14
  // Deterministic: the same fit twice gives the same table.
  SplineTable u = silu_table();
  CHECK(u.knots == t.knots);
  CHECK(u.coef == t.coef);
}

TEST_CASE("spline gate equals the ring form's truncation in every setting", "[spline][backend]") {
  SplineTable t = silu_table();
  RingTensor x = probe_inputs(t, 200);
  std::vector<double> xs = kFxp.decode(x);
  for (Setting s : {Setting::cleartext, Setting::three_pc, Setting::two_pc_dealer}) {
    INFO(setting_name(s));
    std::vector<double> got = kFxp.decode(run_binary(s, x, RingTensor({1}), gate(t)));
    double worst = 0, worst_f = 0;
    for (size_t i = 0; i < xs.size(); ++i) {
      // Just below a knot the comparison may see one grid step more (carry 1): either piece.
      const double d0 = std::fabs(got[i] - spline_eval_ring(t, xs[i], 0)), d1 = std::fabs(got[i] - spline_eval_ring(t, xs[i], 1));
      worst = std::max(worst, std::min(d0, d1));
      worst_f = std::max(worst_f, std::fabs(got[i] - silu_ref(xs[i])));
    }
    CHECK(worst <= kUlp);                   // the truncation: floor or floor + 1
    CHECK(worst_f <= 1.05 * 3e-5 + kUlp);          // so SiLU within the fit's tolerance plus one unit
  }
}

TEST_CASE("cubic spline: half the pieces at the same tolerance, the gate equals the ring form in every setting", "[spline][backend]") {
  auto fit_at = [](int degree) {
    SplineFit f;
    f.name = "silu";
    f.f = silu_ref;
    f.lo = -14;
    f.hi = 14;
    f.right_tail.b = {0, 1, 0};
    f.tol = 1.2e-5;
    f.in_bound = 32768;
    f.out_bound = 32768;
    f.degree = degree;
    return fit_spline(f);
  };
  const SplineTable quadratic = fit_at(2), t = fit_at(3);
  REQUIRE(t.degree == 3);
  CHECK(t.max_error <= 1.2e-5);
  CHECK(2 * t.num_pieces() <= quadratic.num_pieces() + 4);  // 21 against 57 (tails included)
  CHECK(t.hi_scale > t.scale);  // C2, C3 keep more bits than the tails' x lets C1, C0 keep
  double err = 0;
  for (double x = -40; x <= 40; x += 1.0 / 512)
    for (int carry : {0, 1}) err = std::max(err, std::fabs(spline_eval_ring(t, x, carry) - silu_ref(x)));
  CHECK(err <= 1.05 * 1.2e-5);
  CHECK(std::fabs(spline_eval_ring(t, 30000) - 30000) <= kUlp);  // the tail at the bound: no overflow
  SplineTable narrow = t;
  narrow.in_bound = 64;  // the gate's promise on the inputs of probe_inputs
  RingTensor x = probe_inputs(narrow, 200);
  std::vector<double> xs = kFxp.decode(x);
  for (Setting s : {Setting::cleartext, Setting::three_pc, Setting::two_pc_dealer, Setting::two_pc}) {
    INFO(setting_name(s));
    std::vector<double> got = kFxp.decode(run_binary(s, x, RingTensor({1}), gate(t)));
    double worst = 0;
    for (size_t i = 0; i < xs.size(); ++i) {
      const double d0 = std::fabs(got[i] - spline_eval_ring(t, xs[i], 0)), d1 = std::fabs(got[i] - spline_eval_ring(t, xs[i], 1));
      worst = std::max(worst, std::min(d0, d1));
    }
    // Each Horner truncation may be one unit of 2^-S (or 2^-H) above the ring form's floor, the final one a unit of 2^-16.
    CHECK(worst <= 1.01 * kUlp);
  }
}

TEST_CASE("cubic spline with a promised maximum: exp's quadratic tail keeps the scales high", "[spline]") {
  SplineFit f = exp_quarter_fit(1.5e-6, 1024);
  f.out_frac = 28;
  f.degree = 3;
  // Out to +1024 the tail's x^3/32 leaves C1, C0 too few bits (2^-29): a clear error, not a bad table.
  CHECK_THROWS_WITH(fit_spline(f), Catch::Contains("spline exp(x/4): cubic pieces exceed the tolerance at scales"));
  f.in_max = 0;  // exp's inputs are never positive
  const SplineTable t = fit_spline(f);
  CHECK(t.in_max == 0);
  CHECK(t.scale >= 40);
  CHECK(t.max_error <= 1.5e-6);
  for (double x = -20; x <= 0; x += 1.0 / 256) CHECK(std::fabs(spline_eval_ring(t, x) / std::exp(x / 4) - 1) <= 1.6e-6);
}

TEST_CASE("degree-1 spline: exact piecewise-linear function", "[spline][backend]") {
  // clamp(x, -1, 2) / 2 + 0.25 * [x >= 0.5]
  SplineTable t;
  t.name = "clamp";
  t.in_bound = 64;
  t.knots = {-1, 0.5, 2};
  t.pieces.resize(4);
  t.pieces[0].b = {-0.5, 0, 0};
  t.pieces[1].b = {0, 0.5, 0};
  t.pieces[2].b = {0.25, 0.5, 0};
  t.pieces[3].b = {1.25, 0, 0};
  compile_spline(t, 64);
  REQUIRE(t.degree == 1);
  auto ref = [](double x) { return std::clamp(x, -1.0, 2.0) / 2 + (x >= 0.5 ? 0.25 : 0.0); };
  RingTensor x = probe_inputs(t, 100);
  std::vector<double> xs = kFxp.decode(x);
  for (Setting s : {Setting::cleartext, Setting::three_pc, Setting::two_pc_dealer}) {
    INFO(setting_name(s));
    SessionResult res;
    std::vector<double> got = kFxp.decode(run_binary(s, x, RingTensor({1}), gate(t), &res));
    double worst = 0;
    for (size_t i = 0; i < xs.size(); ++i) worst = std::max(worst, std::fabs(got[i] - ref(xs[i])));
    CHECK(worst <= kUlp);
    if (s == Setting::two_pc_dealer) {
      const u64 n = static_cast<u64>(x.numel());
      // x^, the masked piece index (m bits, packed) and the truncation
      for (Role r : {Role::client, Role::server}) CHECK(op_bytes(res, r, "spline") == 16 * n + (n * static_cast<u64>(spline_index_bits(t)) + 7) / 8);
    }
  }
}

TEST_CASE("2pc-dealer spline gate: 16 B and m bits in 3 rounds online whatever the pieces, offline closed form", "[spline][ledger]") {
  SplineTable t = silu_table();
  const i64 n = 150;
  const RingTensor x = random_fixed({n}, -20, 20, kFxp);
  SessionResult res;
  run_binary(Setting::two_pc_dealer, x, RingTensor({1}), gate(t), &res);
  // x^ = x + r, the masked piece index at m = ceil(log2 pieces) bits, then the final truncation: the
  // coefficients never travel.
  const int m = spline_index_bits(t);
  CHECK((1 << (m - 1)) < t.num_pieces());
  CHECK(t.num_pieces() <= (1 << m));
  const u64 online = static_cast<u64>(16 * n) + (static_cast<u64>(n) * static_cast<u64>(m) + 7) / 8;
  for (Role r : {Role::client, Role::server}) CHECK(op_bytes(res, r, "spline") == online);
  CHECK(op_rounds(res, "spline") == 3);
  // Dealer, to each party: the index comparison key (one-byte value words), the DPF table key with
  // the payload (1, r, r^2), and the truncation's word; spline_key_bytes is that closed form.
  CHECK(spline_key_bytes(t) == ltz_key_bytes(t.cmp_bits, 1, 1) + dpf_key_bytes(m, 3));
  // The index key: cmp_bits - 1 DCF levels, the last 4 ended early in a 16 B leaf correction.
  const auto levels = static_cast<size_t>(t.cmp_bits - 1 - 4);
  CHECK(spline_key_bytes(t) == 16 + 17 * levels + 16 + (levels + 3) / 4 + 1 + 16 + 16 * static_cast<size_t>(m) + static_cast<size_t>(m + 3) / 4 + 24);
  CHECK(op_bytes(res, Role::dealer, "spline", Phase::offline) == static_cast<u64>(n) * (2 * spline_key_bytes(t) + 2 * 8));
  CHECK(op_bytes(res, Role::dealer, "spline", Phase::online) == 0);
  require_phantom_equals_real(Setting::two_pc_dealer, x, RingTensor({1}), gate(t));
  // A spline with more than twice the pieces costs one more index bit online.
  SplineTable fine = silu_table(2e-6);
  REQUIRE(fine.num_pieces() > 2 * t.num_pieces());
  SessionResult res_fine;
  run_binary(Setting::two_pc_dealer, x, RingTensor({1}), gate(fine), &res_fine);
  CHECK(op_bytes(res_fine, Role::client, "spline") ==
        static_cast<u64>(16 * n) + (static_cast<u64>(n) * static_cast<u64>(spline_index_bits(fine)) + 7) / 8);
}

TEST_CASE("bad spline tables and fits are clear errors", "[spline][errors]") {
  SplineTable t = silu_table();
  SplineTable bad = t;
  std::swap(bad.knots[1], bad.knots[2]);
  CHECK_THROWS_WITH(check_spline(bad), Catch::Contains("knots must ascend"));
  bad = t;
  bad.coef.pop_back();
  CHECK_THROWS_WITH(check_spline(bad), Catch::Contains("not compiled"));
  SplineFit f = exp_quarter_fit(3e-8, 64);
  f.max_pieces = 50;
  CHECK_THROWS_WITH(fit_spline(f), Catch::Contains("pieces needed"));
  f.tol = 1e-13;
  CHECK_THROWS_WITH(fit_spline(f), Catch::Contains("unreachable"));
  f.tol = 1e-5;
  f.right_tail.b = {0.9, 0, 0};  // e^0 = 1, not 0.9
  CHECK_THROWS_WITH(fit_spline(f), Catch::Contains("right tail"));
  f.lo = 1;
  CHECK_THROWS_WITH(fit_spline(f), Catch::Contains("lo < hi"));
  // Too little precision: a degree-2 piece with outputs up to 2^40.
  SplineTable big = t;
  CHECK_THROWS_WITH(compile_spline(big, std::ldexp(1.0, 40)), Catch::Contains("too little precision"));
}
