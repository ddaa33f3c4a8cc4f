// The function library (protocols/functions/functions.h) against double-precision math, in every setting, and
// phantom runs of it equal to real runs byte for byte.
//
// Inputs are random fixed-point values; references are computed in double from the *decoded*
// inputs, so the bounds measure the functions' error, not the input quantization. Each bound is
// the one stated in functions.h (measured maxima there are lower). Set MARILL_FN_REPORT=1 to print
// the measured errors.
#include "tests/core/harness.h"
#include "tests/core/phantom_check.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <random>

#include "protocols/functions/fn_internal.h"
#include "protocols/functions/functions.h"

using namespace marill;
using namespace marill::test;

namespace {

const FixedPoint kFxp{};
const double kUlp = 1.0 / 65536;

void report(const char* what, Setting s, double err) {
  if (std::getenv("MARILL_FN_REPORT")) std::cout << what << " [" << setting_name(s) << "] max err " << err << "\n";
}

std::vector<double> dec(const RingTensor& t) { return kFxp.decode(t); }

double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

using Unary = std::function<Shared(Backend&, const Shared&)>;

RingTensor run_unary(Setting s, const RingTensor& x, const Unary& f, SessionResult* res = nullptr, bool phantom = false) {
  return run_binary(s, x, RingTensor({1}), [&f](Backend& be, const Shared& a, const Shared&) { return f(be, a); }, res,
                    phantom);
}

// Checks f against ref (element-wise on decoded values) in every setting, |err| <= bound.
void check_elementwise(const char* what, const RingTensor& x, const Unary& f, const std::function<double(double)>& ref,
                       double bound) {
  std::vector<double> xs = dec(x), want(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) want[i] = ref(xs[i]);
  for (Setting s : all_settings()) {
    INFO(what << " in " << setting_name(s));
    double err = max_abs_diff(dec(run_unary(s, x, f)), want);
    report(what, s, err);
    CHECK(err <= bound);
  }
}

RingTensor with_values(RingTensor x, const std::vector<double>& head) {
  for (size_t i = 0; i < head.size(); ++i) x[static_cast<i64>(i)] = kFxp.encode(head[i]);
  return x;
}

// Log-uniform positive values in [lo, hi].
RingTensor log_uniform(i64 n, double lo, double hi) {
  RingTensor u = random_fixed({n}, std::log(lo), std::log(hi), FixedPoint{40});
  RingTensor out({n});
  for (i64 i = 0; i < n; ++i) out[i] = kFxp.encode(std::exp(FixedPoint{40}.decode(u[i])));
  return out;
}

// ---- softmax references ----

bool kept(i64 row, i64 j, const Shape& s, const SoftmaxOptions& o) {
  i64 tq = s[s.size() - 2];
  return !o.causal || j <= o.query_offset + row % tq;
}

std::vector<double> softmax_ref(const std::vector<double>& x, const Shape& s, const SoftmaxOptions& o, SoftmaxApprox kind) {
  const i64 n = s.back(), R = static_cast<i64>(x.size()) / n;
  std::vector<double> p(x.size(), 0.0);
  for (i64 r = 0; r < R; ++r) {
    double mx = -1e300, sum = 0;
    for (i64 j = 0; j < n; ++j)
      if (kept(r, j, s, o)) mx = std::max(mx, x[static_cast<size_t>(r * n + j)]);
    auto num = [&](double v) {
      switch (kind) {
        case SoftmaxApprox::exact: return std::exp(v - mx);
        case SoftmaxApprox::relu2: return std::max(v, 0.0);
        default: return (v + 5) * (v + 5);
      }
    };
    for (i64 j = 0; j < n; ++j)
      if (kept(r, j, s, o)) sum += num(x[static_cast<size_t>(r * n + j)]);
    if (kind != SoftmaxApprox::exact) sum += kUlp;
    for (i64 j = 0; j < n; ++j)
      if (kept(r, j, s, o)) p[static_cast<size_t>(r * n + j)] = num(x[static_cast<size_t>(r * n + j)]) / sum;
  }
  return p;
}

void check_softmax(const char* what, SoftmaxApprox kind, const RingTensor& x, const SoftmaxOptions& o, double bound) {
  const Shape& shape = x.shape();
  std::vector<double> want = softmax_ref(dec(x), shape, o, kind);
  Unary f = [kind, o](Backend& be, const Shared& v) {
    return kind == SoftmaxApprox::exact ? softmax(be, v, o) : kind == SoftmaxApprox::relu2 ? softmax_2relu(be, v, o) : softmax_2quad(be, v, o);
  };
  for (Setting s : all_settings()) {
    INFO(what << " " << shape_str(shape) << " in " << setting_name(s));
    RingTensor got = run_unary(s, x, f);
    REQUIRE(got.shape() == shape);
    double err = max_abs_diff(dec(got), want);
    report(what, s, err);
    CHECK(err <= bound);
    const i64 n = shape.back();
    i64 nonzero_masked = 0;
    for (i64 i = 0; i < got.numel(); ++i)
      if (!kept(i / n, i % n, shape, o) && got[i] != 0) ++nonzero_masked;
    CHECK(nonzero_masked == 0);  // masked: exactly 0
  }
}

void check_softmax(const char* what, SoftmaxApprox kind, const Shape& shape, const SoftmaxOptions& o, double lo, double hi,
                   double bound) {
  check_softmax(what, kind, random_fixed(shape, lo, hi, kFxp), o, bound);
}

}  // namespace

// ---------------------------------------------------------------------------------------------

TEST_CASE("exp of non-positive inputs with clipping", "[functions]") {
  RingTensor x = with_values(random_fixed({1500}, -24, 0, kFxp), {0, -20.0 + kUlp, -20.0, -20.0 - kUlp, -23, -1e-4});
  check_elementwise("exp_neg", x, [](Backend& be, const Shared& v) { return exp_neg(be, v); },
                    [](double v) { return v < -20 ? 0.0 : std::exp(v); }, 3 * kUlp);
}

TEST_CASE("reciprocal on the softmax denominator range and a general range", "[functions]") {
  struct Range { double lo, hi; };
  for (Range r : {Range{1, 2048}, Range{0.01, 100}, Range{0.5, 3}}) {
    RingTensor x = with_values(log_uniform(1200, r.lo, r.hi), {r.lo, r.hi});
    // Relative error of the method plus the input/output rounding: 1/x's ulp and its relative 2^-15.
    for (Setting s : all_settings()) {
      INFO("[" << r.lo << ", " << r.hi << "] in " << setting_name(s));
      std::vector<double> xs = dec(x), got = dec(run_unary(s, x, [r](Backend& be, const Shared& v) { return reciprocal(be, v, r.lo, r.hi); }));
      double worst = 0;
      for (size_t i = 0; i < xs.size(); ++i) {
        double want = 1 / xs[i];
        worst = std::max(worst, std::fabs(got[i] - want) / (2 * kUlp + 4e-5 * want));
      }
      report("reciprocal (err / (2 ulp + 4e-5 rel))", s, worst);
      CHECK(worst <= 1.0);
    }
  }
}

TEST_CASE("rsqrt on variance ranges", "[functions]") {
  struct Range { double lo, hi; };
  for (Range r : {Range{0.01, 100}, Range{1e-4, 4096}}) {
    RingTensor x = with_values(log_uniform(1200, r.lo, r.hi), {r.lo, r.hi});
    for (Setting s : all_settings()) {
      INFO("[" << r.lo << ", " << r.hi << "] in " << setting_name(s));
      std::vector<double> xs = dec(x), got = dec(run_unary(s, x, [r](Backend& be, const Shared& v) { return rsqrt(be, v, r.lo, r.hi); }));
      double worst = 0;
      for (size_t i = 0; i < xs.size(); ++i) {
        double want = 1 / std::sqrt(xs[i]);
        worst = std::max(worst, std::fabs(got[i] - want) / (2 * kUlp + 4e-5 * want));
      }
      report("rsqrt (err / (2 ulp + 4e-5 rel))", s, worst);
      CHECK(worst <= 1.0);
    }
  }
}

TEST_CASE("softmax with causal masks and decode offsets", "[functions]") {
  SoftmaxOptions causal;
  causal.causal = true;
  SoftmaxOptions decode = causal;
  decode.query_offset = 7;
  check_softmax("softmax causal", SoftmaxApprox::exact, {2, 2, 12, 12}, causal, -20, 20, 3e-5);
  check_softmax("softmax decode", SoftmaxApprox::exact, {1, 3, 2, 11}, decode, -20, 20, 3e-5);
  check_softmax("softmax b=128", SoftmaxApprox::exact, {3, 128}, {}, -20, 20, 3e-5);
}

TEST_CASE("ragged_max: the exact max of rows of different lengths in every setting, one comparison per element but one per row", "[functions]") {
  // Rows of 1..5 elements (period 5) and rows capped at 4: min(4, 1 + r % 5).
  const RowLengths rows{11, 1, 5, 4};
  const i64 n = rows.total();
  const RingTensor x = random_fixed({n}, -20.0, 20.0, kFxp);
  std::vector<u64> want;
  for (i64 r = 0, off = 0; r < rows.rows; off += rows[r], ++r) {
    i64 best = static_cast<i64>(x[off]);
    for (i64 j = 1; j < rows[r]; ++j) best = std::max(best, static_cast<i64>(x[off + j]));
    want.push_back(static_cast<u64>(best));
  }
  for (Setting s : all_settings()) {
    INFO(setting_name(s));
    SessionResult res;
    const RingTensor got = run_unary(s, x, [&](Backend& be, const Shared& a) { return fn::ragged_max(be, a, rows, 20.0); }, &res);
    REQUIRE(got.shape() == Shape{rows.rows, 1});
    REQUIRE(got.values() == want);
  }
  REQUIRE_THROWS_WITH(run_unary(Setting::cleartext, x, [&](Backend& be, const Shared& a) { return fn::ragged_max(be, a, RowLengths{3, 0, 1, 0}, 20.0); }),
                      Catch::Contains("ragged_max: rows of 0 elements"));
}

TEST_CASE("a near-max with coarse comparisons is an element of its row at most levels x resolution below the max, in every setting", "[functions]") {
  // Rows of 64 scores within a few 2^-10 of each other (every comparison inside the resolution)
  // and rows spread over [-20, 20]; resolution 1/24: comparisons drop 11 of 27 bits.
  const i64 R = 6, n = 64;
  const double resolution = 1.0 / 24, slack = 6 * std::ldexp(1.0, fn::cmp_low(kFxp.frac_bits, 40.0, resolution) - kFxp.frac_bits);
  CHECK(fn::cmp_low(kFxp.frac_bits, 40.0, resolution) == 11);
  RingTensor x = random_fixed({R, n}, -20.0, 20.0, kFxp);
  std::mt19937_64 rng(7);
  const i64 centre = static_cast<i64>(std::llround(std::ldexp(1.5, kFxp.frac_bits)));
  for (i64 i = 0; i < 3 * n; ++i) x[i] = static_cast<u64>(centre + static_cast<i64>(rng() % 200) - 100);
  auto check_rows = [&](const RingTensor& got, const char* what) {
    INFO(what);
    REQUIRE(got.numel() == R);
    for (i64 r = 0; r < R; ++r) {
      i64 best = static_cast<i64>(x[r * n]);
      bool member = false;
      for (i64 j = 0; j < n; ++j) {
        best = std::max(best, static_cast<i64>(x[r * n + j]));
        member = member || x[r * n + j] == got[r];
      }
      CHECK(member);
      CHECK(static_cast<i64>(got[r]) <= best);
      CHECK(static_cast<double>(best - static_cast<i64>(got[r])) < slack * std::ldexp(1.0, kFxp.frac_bits));
    }
  };
  for (Setting s : all_settings()) {
    INFO(setting_name(s));
    check_rows(run_unary(s, x, [&](Backend& be, const Shared& a) { return fn::tournament_max(be, a, 20.0, false, resolution).value; }), "tournament");
    check_rows(run_unary(s, x.reshaped({R * n}), [&](Backend& be, const Shared& a) { return fn::ragged_max(be, a, RowLengths::uniform(R, n), 20.0, resolution); }), "ragged");
  }
  REQUIRE_THROWS_WITH(run_unary(Setting::cleartext, x, [&](Backend& be, const Shared& a) { return fn::tournament_max(be, a, 20.0, true, resolution).index; }),
                      Catch::Contains("an index needs exact comparisons"));
}

TEST_CASE("poly_eval_blocked: Paterson-Stockmeyer blocks give the one-power-per-product value to a few ulps of F in every setting, with fewer products", "[functions]") {
  constexpr int F = 28;
  const FixedPoint f28{F};
  std::vector<double> ts;
  const RingTensor t = random_fixed({192}, -1.25, 1.25, f28);
  for (double v : f28.decode(t)) ts.push_back(v);
  for (int d : {3, 6, 7, 12, 16}) {
    INFO("degree " << d);
    std::vector<double> coefs;
    for (int k = 0; k <= d; ++k) coefs.push_back(std::sin(1.0 + k) / (1 + k));  // mixed signs, |a_k| < 1
    for (Setting s : all_settings()) {
      INFO(setting_name(s));
      SessionResult blocked_res, plain_res;
      const Unary blocked = [&](Backend& be, const Shared& a) { return fn::poly_eval_blocked(be, a, coefs, F, F, 1.25); };
      const Unary plain = [&](Backend& be, const Shared& a) {
        double mag = 0;
        for (int k = 0; k <= d; ++k) mag += std::fabs(coefs[static_cast<size_t>(k)]) * std::pow(1.25, k);
        return fn::poly_eval(be, fn::powers(be, a, d, F), coefs, F, F, mag);
      };
      const std::vector<double> got = f28.decode(run_unary(s, t, blocked, &blocked_res));
      const std::vector<double> ref = f28.decode(run_unary(s, t, plain, &plain_res));
      double err = 0, err_exact = 0;
      for (size_t i = 0; i < ts.size(); ++i) {
        double exact = 0;
        for (int k = d; k >= 0; --k) exact = exact * ts[i] + coefs[static_cast<size_t>(k)];
        err = std::max(err, std::fabs(got[i] - ref[i]));
        err_exact = std::max(err_exact, std::fabs(got[i] - exact));
      }
      CHECK(err <= 64.0 / (1 << F));        // the two orders' truncations differ by ulps of 2^-28
      CHECK(err_exact <= 64.0 / (1 << F));
      if (s == Setting::three_pc && d >= 7) {  // fewer bytes than d - 1 products
        u64 b_blocked = 0, b_plain = 0;
        for (Role r : {Role::client, Role::server, Role::helper}) {
          b_blocked = std::max(b_blocked, blocked_res.party(r).ledger.total(Phase::online).bytes_sent);
          b_plain = std::max(b_plain, plain_res.party(r).ledger.total(Phase::online).bytes_sent);
        }
        CHECK(b_blocked < b_plain);
      }
    }
  }
}

TEST_CASE("poly_eval_blocked with untruncated blocks: Horner on the blocks as they are, in t^4 or in T_4, to a few ulps of F with no truncation, and no room named", "[functions]") {
  // Degree 12 in t^4 on [-1, 1] at F = 19 (coefficients below 1/4); degree 16 in T_4 at F = 22 with
  // monomial coefficients up to ~15 (the Chebyshev series of a smooth function: small in T_4's
  // remainders, where the t^4 blocks leave no room).
  std::vector<double> small, large;
  for (int k = 0; k <= 12; ++k) small.push_back(std::sin(1.0 + k) / (4.0 * (1 + k)));
  {
    std::vector<double> cheb(17);  // sum_k c_k T_k(t), c_k = 0.8^k / 16, in monomials
    for (int k = 0; k <= 16; ++k) cheb[static_cast<size_t>(k)] = std::pow(0.8, k) / 16;
    std::vector<std::vector<double>> T{{1}, {0, 1}};
    for (int k = 2; k <= 16; ++k) {
      std::vector<double> next(static_cast<size_t>(k) + 1, 0.0);
      for (size_t j = 0; j < T[static_cast<size_t>(k) - 1].size(); ++j) next[j + 1] += 2 * T[static_cast<size_t>(k) - 1][j];
      for (size_t j = 0; j < T[static_cast<size_t>(k) - 2].size(); ++j) next[j] -= T[static_cast<size_t>(k) - 2][j];
      T.push_back(next);
    }
    large.assign(17, 0.0);
    for (int k = 0; k <= 16; ++k)
      for (size_t j = 0; j < T[static_cast<size_t>(k)].size(); ++j) large[j] += cheb[static_cast<size_t>(k)] * T[static_cast<size_t>(k)][j];
  }
  struct Case {
    const char* name;
    const std::vector<double>& coefs;
    int F;
    fn::Horner horner;
  };
  for (const Case& c : {Case{"t^4", small, 19, fn::Horner::untruncated}, Case{"T_4", large, 22, fn::Horner::chebyshev}}) {
    INFO(c.name);
    const FixedPoint fx{c.F};
    const RingTensor t = random_fixed({192}, -1.0, 1.0, fx);
    const std::vector<double> ts = fx.decode(t);
    const int d = static_cast<int>(c.coefs.size()) - 1;
    for (Setting s : all_settings()) {
      INFO(setting_name(s));
      SessionResult res;
      const Unary untruncated = [&](Backend& be, const Shared& a) {
        const fn::FixedShared p = fn::poly_eval_blocked_raw(be, a, c.coefs, c.F, 1.0, c.horner);
        return be.trunc(p.v, p.bits - c.F);
      };
      const std::vector<double> got = fx.decode(run_unary(s, t, untruncated, &res));
      double err = 0;
      for (size_t i = 0; i < ts.size(); ++i) {
        double exact = 0;
        for (int k = d; k >= 0; --k) exact = exact * ts[i] + c.coefs[static_cast<size_t>(k)];
        err = std::max(err, std::fabs(got[i] - exact));
      }
      CHECK(err <= 16.0 / (1 << c.F));
      if (s == Setting::three_pc) {  // products and the final truncation: no truncation of blocks
        u64 truncs = 0;
        for (const auto& [name, cost] : res.party(Role::client).ledger.by_op(Phase::online))
          if (name == "trunc") truncs = cost.calls;
        CHECK(truncs == 1);
      }
    }
  }
  // The large coefficients in t^4 blocks leave no room at F = 22.
  const RingTensor t22 = random_fixed({64}, -1.0, 1.0, FixedPoint{22});
  REQUIRE_THROWS_WITH(run_unary(Setting::cleartext, t22, [&](Backend& be, const Shared& a) { return fn::poly_eval_blocked_raw(be, a, large, 22, 1.0, fn::Horner::untruncated).v; }),
                      Catch::Contains("untruncated blocks leave block"));
}

TEST_CASE("softmax over 2048-key rows", "[functions]") {
  check_softmax("softmax b=2048", SoftmaxApprox::exact, {1, 2048}, {}, -20, 20, 3e-5);
  // Hard rows: one winner over 2047 keys 11..14 below it (each e^x under one output ulp, their
  // sum ~0.014: needs the 28-bit exp values); one over keys 7..9 below it (where exp's error is
  // largest, summed 2047 times); 2048 near-equal keys (p ~ 1/2048 each).
  RingTensor hard = random_fixed({3, 2048}, 6, 9, kFxp);
  RingTensor mid = random_fixed({2048}, 11, 13, kFxp), flat = random_fixed({2048}, 19.99, 20, kFxp);
  for (i64 j = 0; j < 2048; ++j) hard[2048 + j] = mid[j], hard[4096 + j] = flat[j];
  hard[0] = hard[2048] = kFxp.encode(20.0);
  check_softmax("softmax b=2048 hard rows", SoftmaxApprox::exact, hard, {}, 3e-5);
}

TEST_CASE("2ReLU and 2Quad softmax approximations", "[functions]") {
  SoftmaxOptions causal;
  causal.causal = true;
  check_softmax("2relu causal", SoftmaxApprox::relu2, {2, 10, 10}, causal, -20, 20, 3e-5);
  check_softmax("2relu b=128", SoftmaxApprox::relu2, {2, 128}, {}, -20, 20, 3e-5);
  check_softmax("2quad causal", SoftmaxApprox::quad2, {2, 10, 10}, causal, -20, 20, 3e-5);
  check_softmax("2quad b=128", SoftmaxApprox::quad2, {2, 128}, {}, -20, 20, 3e-5);
}

TEST_CASE("ReLU Quad GeLU and SiLU activations", "[functions]") {
  RingTensor x = with_values(random_fixed({1500}, -8, 8, kFxp), {0, kUlp, -kUlp, 4.5, -4.5, 4.5 - kUlp});
  check_elementwise("relu", x, [](Backend& be, const Shared& v) { return relu(be, v); },
                    [](double v) { return std::max(v, 0.0); }, 0.0);
  check_elementwise("quad", x, [](Backend& be, const Shared& v) { return quad(be, v); },
                    [](double v) { return 0.125 * v * v + 0.25 * v + 0.5; }, kUlp);
  check_elementwise("gelu", x, [](Backend& be, const Shared& v) { return gelu(be, v); },
                    [](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); }, 3e-5);
  RingTensor xs = with_values(random_fixed({1500}, -16, 16, kFxp), {0, 14, -14, 14 - kUlp});
  check_elementwise("silu", xs, [](Backend& be, const Shared& v) { return silu(be, v); },
                    [](double v) { return v / (1 + std::exp(-v)); }, 3.5e-5);
}

TEST_CASE("GeLU and SiLU next to their cut-off T, where the inside test may drop h early, and at 20 fractional bits, where the fit falls back to 28 bits with truncated blocks", "[functions]") {
  const auto gelu_ref = [](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); };
  const auto silu_ref = [](double v) { return v / (1 + std::exp(-v)); };
  // |x| in [T - 4 2^-6, T + 2^-6], both signs: h dropped at most from T - 3 2^-6.
  auto band = [](double T) {
    RingTensor x = random_fixed({256}, T - 4.0 / 64, T + 1.0 / 64, kFxp);
    for (i64 i = 0; i < 128; ++i) x[i] = 0 - x[i];
    return x;
  };
  check_elementwise("gelu near 5", band(5), [](Backend& be, const Shared& v) { return gelu(be, v); }, gelu_ref, 3e-5);
  check_elementwise("silu near 14", band(14), [](Backend& be, const Shared& v) { return silu(be, v); }, silu_ref, 3.5e-5);

  const FixedPoint f20{20};
  for (Setting s : {Setting::cleartext, Setting::three_pc}) {
    for (bool is_gelu : {true, false}) {
      INFO(setting_name(s) << (is_gelu ? " gelu" : " silu") << " at 20 fractional bits");
      const double T = is_gelu ? 8 : 16;
      const RingTensor x = random_fixed({512}, -T, T, f20);
      SessionConfig cfg;
      cfg.setting = s;
      cfg.fxp = f20;
      RingTensor got;
      std::mutex mu;
      run_session(cfg, [&](Backend& be) {
        Shared v = be.input(Role::client, be.role() == Role::client || s == Setting::cleartext ? x : RingTensor::phantom(x.shape()));
        RingTensor r = be.reveal(is_gelu ? gelu(be, v) : silu(be, v), Role::client);
        std::lock_guard<std::mutex> lock(mu);
        if (be.role() == Role::client) got = r;
      });
      double err = 0;
      const std::vector<double> xs = f20.decode(x), ys = f20.decode(got);
      for (size_t i = 0; i < xs.size(); ++i) err = std::max(err, std::fabs(ys[i] - (is_gelu ? gelu_ref(xs[i]) : silu_ref(xs[i]))));
      CHECK(err <= (is_gelu ? 1e-5 : 2.5e-5));  // the fits' 6.4e-6 and 1.1e-5 (SiLU: and h(14) = 1.2e-5) and a few 2^-20
    }
  }
}

namespace {
// Rows with variance from 1e-2 to 1e2 and means in [-3, 3].
RingTensor norm_rows(i64 R, i64 C) {
  RingTensor u = random_fixed({R, C}, -1, 1, kFxp), m = random_fixed({R}, -3, 3, kFxp);
  RingTensor x({R, C});
  for (i64 r = 0; r < R; ++r) {
    double sd = std::sqrt(std::pow(10.0, -2 + 4.0 * r / (R - 1))) * std::sqrt(3.0);  // uniform: var = sd^2 / 3
    for (i64 c = 0; c < C; ++c) x[r * C + c] = kFxp.encode(kFxp.decode(m[r]) + sd * kFxp.decode(u[r * C + c]));
  }
  return x;
}

std::vector<double> norm_ref(const std::vector<double>& x, i64 C, const std::vector<double>& g, const std::vector<double>& b,
                             bool layer, double eps) {
  std::vector<double> out(x.size());
  for (size_t r = 0; r < x.size() / static_cast<size_t>(C); ++r) {
    const double* v = &x[r * static_cast<size_t>(C)];
    double mean = 0, sq = 0;
    if (layer) {
      for (i64 c = 0; c < C; ++c) mean += v[c];
      mean /= static_cast<double>(C);
    }
    for (i64 c = 0; c < C; ++c) sq += (v[c] - mean) * (v[c] - mean);
    double rs = 1 / std::sqrt(sq / static_cast<double>(C) + eps);
    for (i64 c = 0; c < C; ++c)
      out[r * static_cast<size_t>(C) + static_cast<size_t>(c)] = (v[c] - mean) * rs * g[static_cast<size_t>(c)] + (layer ? b[static_cast<size_t>(c)] : 0.0);
  }
  return out;
}
}  // namespace

TEST_CASE("RMSNorm and LayerNorm with secret and public weights", "[functions]") {
  const i64 R = 7, C = 96;
  RingTensor x = norm_rows(R, C);
  RingTensor gb = random_fixed({2, C}, 0.5, 1.5, kFxp);  // row 0: gamma; row 1: beta + 1
  std::vector<double> xs = dec(x), gbs = dec(gb);
  std::vector<double> g(gbs.begin(), gbs.begin() + C), b(static_cast<size_t>(C));
  for (i64 c = 0; c < C; ++c) b[static_cast<size_t>(c)] = gbs[static_cast<size_t>(C + c)] - 1;
  RingTensor g_pub = slice(gb, 0, 0, 1).reshaped({C});
  RingTensor b_pub = add_scalar(slice(gb, 0, 1, 2).reshaped({C}), kFxp.encode(-1.0));
  NormOptions opt;
  for (bool layer : {false, true}) {
    std::vector<double> want = norm_ref(xs, C, g, b, layer, opt.eps);
    // Secret weights: the server inputs gamma and beta (a private layer's norm).
    BinaryOp secret = [layer, opt, C](Backend& be, const Shared& v, const Shared& w) {
      Shared gamma = be.map(w, [C](const RingTensor& t) { return slice(t, 0, 0, 1).reshaped({C}); });
      Shared beta = be.add_scalar(be.map(w, [C](const RingTensor& t) { return slice(t, 0, 1, 2).reshaped({C}); }), kFxp.encode(-1.0));
      return layer ? layernorm(be, v, gamma, beta, opt) : rmsnorm(be, v, gamma, opt);
    };
    BinaryOp pub = [layer, opt, g_pub, b_pub](Backend& be, const Shared& v, const Shared&) {
      return layer ? layernorm(be, v, g_pub, b_pub, opt) : rmsnorm(be, v, g_pub, opt);
    };
    for (Setting s : all_settings()) {
      for (bool secret_w : {true, false}) {
        INFO((layer ? "layernorm" : "rmsnorm") << (secret_w ? " secret" : " public") << " weights in " << setting_name(s));
        double err = max_abs_diff(dec(run_binary(s, x, gb, secret_w ? secret : pub)), want);
        report(layer ? "layernorm" : "rmsnorm", s, err);
        CHECK(err <= 1.5e-4);
      }
    }
  }
  // Without the gain and bias (folded into the next layer): the reference with gamma = 1, beta = 0.
  std::vector<double> ones(static_cast<size_t>(C), 1.0), zeros(static_cast<size_t>(C), 0.0);
  for (bool layer : {false, true}) {
    const std::vector<double> want = norm_ref(xs, C, ones, zeros, layer, opt.eps);
    BinaryOp bare = [opt, layer](Backend& be, const Shared& v, const Shared&) { return layer ? layernorm(be, v, opt) : rmsnorm(be, v, opt); };
    for (Setting s : all_settings()) {
      INFO((layer ? "layernorm" : "rmsnorm") << " without gain in " << setting_name(s));
      CHECK(max_abs_diff(dec(run_binary(s, x, gb, bare)), want) <= 1.5e-4);
    }
  }
}

TEST_CASE("argmax over a 32000-token vocabulary", "[functions]") {
  const i64 V = 32000;
  RingTensor x = random_fixed({2, V}, -20, 20, kFxp);
  // Row 1: a winner exactly one ulp above the runner-up, and an exact tie below both.
  i64 w = 12345;
  x[V + 7] = kFxp.encode(25.0);
  x[V + w] = x[V + 7] + 1;
  x[V + 100] = x[V + 7];
  RingTensor small({3, 5}, {0, 0, 0, 0, 0, /**/ 3, 9, 9, 1, 9, /**/ 0, 0, 0, 0, 1});
  for (Setting s : all_settings()) {
    INFO(setting_name(s));
    for (const RingTensor* t : {&x, &small}) {
      const i64 n = t->shape().back(), R = t->numel() / n;
      SessionConfig cfg;
      cfg.setting = s;
      RingTensor idx, val;
      std::mutex mu;
      run_session(cfg, [&](Backend& be) {
        bool mine = be.role() == Role::client || be.setting() == Setting::cleartext;
        Shared in = be.input(Role::client, mine ? *t : RingTensor::phantom(t->shape()));
        ArgmaxResult a = argmax(be, in);
        RingTensor i = be.reveal(a.index, Role::client), v = be.reveal(a.value, Role::client);
        std::lock_guard<std::mutex> lock(mu);
        if (be.role() == Role::client) idx = i, val = v;
      });
      REQUIRE(idx.shape() == Shape({R, 1}));
      for (i64 r = 0; r < R; ++r) {
        u64 best = (*t)[r * n];
        for (i64 j = 1; j < n; ++j)
          if (static_cast<i64>((*t)[r * n + j]) > static_cast<i64>(best)) best = (*t)[r * n + j];
        i64 got = static_cast<i64>(idx[r]);
        REQUIRE(got >= 0);
        REQUIRE(got < n);
        CHECK((*t)[r * n + got] == best);  // any maximal index (ties)
        CHECK(val[r] == best);
      }
      if (t == &x) CHECK(idx[1] == static_cast<u64>(w));
    }
  }
}

namespace {
// Every function once, on small shapes; the server inputs a norm weight.
Shared everything(Backend& be, const Shared& x, const Shared& w) {
  SoftmaxOptions causal;
  causal.causal = true;
  causal.query_offset = 1;
  Shared s3 = be.map(x, [](const RingTensor& t) { return t.reshaped({2, 3, 4}); });
  Shared neg = be.neg(relu(be, x));  // <= 0
  Shared pos = be.add_scalar(relu(be, x), kFxp.encode(0.5));
  std::vector<Shared> outs = {
      exp_neg(be, neg), reciprocal(be, pos, 0.5, 64), rsqrt(be, pos, 0.5, 64), quad(be, x), gelu(be, x), silu(be, x),
      be.map(softmax(be, s3, causal), [](const RingTensor& t) { return t.reshaped({24}); }),
      be.map(softmax_2relu(be, s3, causal), [](const RingTensor& t) { return t.reshaped({24}); }),
      be.map(softmax_2quad(be, s3), [](const RingTensor& t) { return t.reshaped({24}); }),
      be.map(layernorm(be, be.map(x, [](const RingTensor& t) { return t.reshaped({4, 6}); }), w, w),
             [](const RingTensor& t) { return t.reshaped({24}); }),
      be.map(rmsnorm(be, be.map(x, [](const RingTensor& t) { return t.reshaped({4, 6}); }), w),
             [](const RingTensor& t) { return t.reshaped({24}); }),
  };
  ArgmaxResult a = argmax(be, s3);
  outs.push_back(be.map(a.index, [](const RingTensor& t) { return t.reshaped({6}); }));
  return be.concat(outs, 0);
}
}  // namespace

TEST_CASE("functions in phantom mode send exactly the bytes and rounds of real runs", "[functions][phantom]") {
  RingTensor x = random_fixed({24}, -4, 4, kFxp), w = random_fixed({6}, 0.5, 1.5, kFxp);
  for (Setting s : secure_settings()) {
    INFO(setting_name(s));
    SessionResult real;
    require_phantom_equals_real([&](bool phantom) {
      SessionResult res;
      run_binary(s, x, w, everything, &res, phantom);
      if (!phantom) real = res;
      return res;
    });
    // Costs are broken down by kind.
    const auto& ops = real.party(Role::client).ledger.by_op(Phase::online);
    for (const char* kind : {"exp", "reciprocal", "rsqrt", "softmax", "softmax/max", "softmax/exp", "softmax/reciprocal",
                             "relu", "quad", "gelu", "silu", "norm", "norm/rsqrt", "argmax"}) {
      INFO(kind);
      CHECK(ops.count(kind) == 1);
    }
  }
}
