// The function policy (protocols/mpc/function_policy.h): its text form and registry, its defaults
// per setting, and every method of every function correct in every setting (against double
// math), with the policy visibly deciding (a method changes the bytes sent).
#include "tests/core/harness.h"

#include <atomic>
#include <cmath>

#include "protocols/functions/functions.h"
#include "protocols/mpc/function_policy.h"

using namespace marill;
using namespace marill::test;

namespace {

const FixedPoint kFxp{};
const double kUlp = 1.0 / 65536;
const std::vector<Setting> kSettings{Setting::cleartext, Setting::three_pc, Setting::two_pc_dealer, Setting::two_pc};

using Unary = std::function<Shared(Backend&, const Shared&)>;

// f on x (the client's input) under `policy`; the client's decoded output.
std::vector<double> run_policy(Setting s, const FunctionPolicy& policy, const RingTensor& x, const Unary& f,
                               SessionResult* out = nullptr) {
  SessionConfig cfg;
  cfg.setting = s;
  cfg.policy = policy;
  cfg.recv_timeout = std::chrono::milliseconds(30000);
  std::vector<double> got;
  std::mutex mu;
  std::atomic<bool> policy_held{true};  // Catch's macros are not for party threads
  SessionResult res = run_session(cfg, [&](Backend& be) {
    if (be.policy() != policy) policy_held = false;
    const bool mine = be.role() == Role::client || be.setting() == Setting::cleartext;
    Shared v = be.input(Role::client, mine ? x : RingTensor::phantom(x.shape()));
    RingTensor y = be.reveal(f(be, v), Role::client);
    if (be.role() == Role::client) {
      std::lock_guard<std::mutex> lock(mu);
      got = kFxp.decode(y);
    }
  });
  CHECK(policy_held);
  if (out) *out = std::move(res);
  return got;
}

// Max over elements of |got - ref(x)| / (abs_tol + rel_tol |ref(x)|): <= 1 passes.
double worst(const RingTensor& x, const std::vector<double>& got, const std::function<double(double)>& ref, double abs_tol,
             double rel_tol) {
  std::vector<double> xs = kFxp.decode(x);
  REQUIRE(got.size() == xs.size());
  double w = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    double want = ref(xs[i]);
    w = std::max(w, std::fabs(got[i] - want) / (abs_tol + rel_tol * std::fabs(want)));
  }
  return w;
}

// n points spaced geometrically over [lo, hi] (every binade of a reciprocal/rsqrt range equally).
RingTensor geometric(i64 n, double lo, double hi) {
  RingTensor out({n});
  for (i64 i = 0; i < n; ++i) out[i] = kFxp.encode(lo * std::pow(hi / lo, static_cast<double>(i) / static_cast<double>(n - 1)));
  return out;
}

double silu_ref(double v) { return v / (1 + std::exp(-v)); }
double gelu_ref(double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); }

}  // namespace

TEST_CASE("function policy text form: overrides, every entry, clear errors", "[policy]") {
  FunctionPolicy p = parse_policy("silu=poly,exp=spline", default_policy(Setting::three_pc));
  CHECK(p.silu == ActMethod::poly);
  CHECK(p.exp == ExpMethod::spline);
  CHECK(p.gelu == ActMethod::poly);  // untouched
  CHECK(parse_policy("", p) == p);
  CHECK(parse_policy("softmax=2relu,act=quad,gelu=relu,reciprocal=spline,rsqrt=iteration", p).softmax == SoftmaxApprox::relu2);
  // policy_str names every entry and parse_policy reads it back.
  for (Setting s : kSettings) {
    FunctionPolicy d = default_policy(s);
    CHECK(parse_policy(policy_str(d), FunctionPolicy{}) == d);
  }
  FunctionPolicy odd = parse_policy("silu=relu,gelu=spline,exp=spline,reciprocal=spline,rsqrt=spline,softmax=2quad,act=relu", {});
  CHECK(policy_str(odd) == "silu=relu,gelu=spline,exp=spline,reciprocal=spline,rsqrt=spline,softmax=2quad,act=relu");
  CHECK(parse_policy(policy_str(odd), FunctionPolicy{}) == odd);

  CHECK_THROWS_WITH(parse_policy("sigmoid=poly", p), Catch::Contains("unknown function 'sigmoid'") && Catch::Contains("silu, gelu, exp"));
  CHECK_THROWS_WITH(parse_policy("silu=taylor", p), Catch::Contains("silu") && Catch::Contains("'taylor'") && Catch::Contains("spline, poly, relu"));
  CHECK_THROWS_WITH(parse_policy("exp=poly", p), Catch::Contains("spline, squaring"));
  CHECK_THROWS_WITH(parse_policy("softmax=3relu", p), Catch::Contains("unknown softmax approximation '3relu'"));
  CHECK_THROWS_WITH(parse_policy("silu", p), Catch::Contains("expected name=method"));
  CHECK_THROWS_WITH(parse_policy("silu=poly,,exp=spline", p), Catch::Contains("expected name=method"));
  CHECK_THROWS_WITH(parse_policy("=poly", p), Catch::Contains("expected name=method"));
}

TEST_CASE("approximation registry: one name per value, both ways", "[policy]") {
  std::vector<std::string> names;
  for (SoftmaxApprox a : all_softmax_approx()) {
    CHECK(parse_softmax_approx(to_string(a)) == a);
    names.push_back(to_string(a));
  }
  CHECK(names == std::vector<std::string>{"exact", "2relu", "2quad"});
  names.clear();
  for (ActApprox a : all_act_approx()) {
    CHECK(parse_act_approx(approx_name(a)) == a);
    names.push_back(approx_name(a));
  }
  CHECK(names == std::vector<std::string>{"exact", "relu", "quad"});
  CHECK_THROWS_WITH(parse_act_approx("gelu"), Catch::Contains("unknown activation approximation 'gelu' (exact, relu, quad)"));
}

TEST_CASE("default policy: splines in 2pc-dealer, polynomials elsewhere, exact approximations", "[policy]") {
  FunctionPolicy two = default_policy(Setting::two_pc);  // activations and exp by cubic spline, inverses iterative
  CHECK(two.silu == ActMethod::cubic);
  CHECK(two.gelu == ActMethod::cubic);
  CHECK(two.exp == ExpMethod::cubic);
  CHECK(two.rsqrt == InvMethod::iteration);
  FunctionPolicy d = default_policy(Setting::two_pc_dealer);
  CHECK(d.silu == ActMethod::spline);
  CHECK(d.gelu == ActMethod::spline);
  CHECK(d.exp == ExpMethod::spline);
  CHECK(d.reciprocal == InvMethod::spline);
  CHECK(d.rsqrt == InvMethod::spline);
  for (Setting s : {Setting::cleartext, Setting::three_pc}) {
    FunctionPolicy p = default_policy(s);
    CHECK(p.silu == ActMethod::poly);
    CHECK(p.gelu == ActMethod::poly);
    CHECK(p.exp == ExpMethod::squaring);
    CHECK(p.reciprocal == InvMethod::iteration);
    CHECK(p.rsqrt == InvMethod::iteration);
  }
  for (Setting s : kSettings) {
    CHECK(default_policy(s).softmax == SoftmaxApprox::exact);
    CHECK(default_policy(s).act == ActApprox::exact);
  }
  // A session without a policy runs its setting's default on every party.
  for (Setting s : kSettings) {
    SessionConfig cfg;
    cfg.setting = s;
    std::atomic<int> held{0};
    run_session(cfg, [&](Backend& be) { held += be.policy() == default_policy(s); });
    CHECK(held == static_cast<int>(s == Setting::cleartext ? 1 : roles_of(s).size()));
  }
}

TEST_CASE("every SiLU and GeLU method in every setting", "[policy][functions]") {
  RingTensor x = random_fixed({300}, -16, 16, kFxp);
  for (Setting s : kSettings)
    for (ActMethod m : {ActMethod::spline, ActMethod::poly, ActMethod::relu, ActMethod::cubic}) {
      FunctionPolicy p = default_policy(s);
      p.silu = p.gelu = m;
      INFO(setting_name(s) << " method " << method_name(m));
      auto ref_or_relu = [m](double (*f)(double)) {
        return [m, f](double v) { return m == ActMethod::relu ? std::max(v, 0.0) : f(v); };
      };
      // Stated bounds (functions.h): 2.6e-5 measured; ReLU exact.
      const double tol = m == ActMethod::relu ? 0.5 * kUlp : 3.5e-5;
      CHECK(worst(x, run_policy(s, p, x, [](Backend& be, const Shared& v) { return silu(be, v); }), ref_or_relu(silu_ref), tol, 0) <= 1);
      CHECK(worst(x, run_policy(s, p, x, [](Backend& be, const Shared& v) { return gelu(be, v); }), ref_or_relu(gelu_ref), tol, 0) <= 1);
    }
}

TEST_CASE("every exp, reciprocal and rsqrt method in every setting", "[policy][functions]") {
  RingTensor xe = random_fixed({300}, -24, 0, kFxp);
  RingTensor xr = geometric(300, 0.01, 100);
  for (Setting s : kSettings) {
    for (ExpMethod m : {ExpMethod::spline, ExpMethod::squaring, ExpMethod::cubic}) {
      FunctionPolicy p = default_policy(s);
      p.exp = m;
      INFO(setting_name(s) << " exp " << method_name(m));
      auto ref = [](double v) { return v < -20 ? 0.0 : std::exp(v); };
      CHECK(worst(xe, run_policy(s, p, xe, [](Backend& be, const Shared& v) { return exp_neg(be, v); }), ref, 3 * kUlp, 0) <= 1);
    }
    for (InvMethod m : {InvMethod::spline, InvMethod::iteration}) {
      FunctionPolicy p = default_policy(s);
      p.reciprocal = p.rsqrt = m;
      INFO(setting_name(s) << " reciprocal/rsqrt " << method_name(m));
      auto rec = [](Backend& be, const Shared& v) { return reciprocal(be, v, 0.01, 100); };
      auto rsq = [](Backend& be, const Shared& v) { return rsqrt(be, v, 0.01, 100); };
      CHECK(worst(xr, run_policy(s, p, xr, rec), [](double v) { return 1 / v; }, 2 * kUlp, 4e-5) <= 1);
      CHECK(worst(xr, run_policy(s, p, xr, rsq), [](double v) { return 1 / std::sqrt(v); }, 2 * kUlp, 4e-5) <= 1);
    }
  }
}

TEST_CASE("the policy decides: a method changes the bytes, the default equals its explicit form", "[policy]") {
  RingTensor x = random_fixed({64}, -8, 8, kFxp);
  auto bytes = [&](Setting s, const FunctionPolicy& p, const Unary& f) {
    SessionResult r;
    run_policy(s, p, x, f, &r);
    return op_bytes(r, Role::client, "silu") + op_bytes(r, Role::client, "exp");
  };
  Unary f_silu = [](Backend& be, const Shared& v) { return silu(be, v); };
  Unary f_exp = [](Backend& be, const Shared& v) { return exp_neg(be, be.neg(be.mul_trunc(v, v))); };
  for (Setting s : {Setting::three_pc, Setting::two_pc_dealer}) {
    INFO(setting_name(s));
    const FunctionPolicy d = default_policy(s);
    FunctionPolicy spline = d, poly = d;
    spline.silu = ActMethod::spline;
    spline.exp = ExpMethod::spline;
    poly.silu = ActMethod::poly;
    poly.exp = ExpMethod::squaring;
    CHECK(bytes(s, spline, f_silu) != bytes(s, poly, f_silu));
    CHECK(bytes(s, spline, f_exp) != bytes(s, poly, f_exp));
    CHECK(bytes(s, d, f_silu) == bytes(s, s == Setting::two_pc_dealer ? spline : poly, f_silu));
  }
}

TEST_CASE("softmax and activation follow the policy's approximations", "[policy][functions]") {
  RingTensor scores = random_fixed({2, 6, 6}, -8, 8, kFxp);
  SoftmaxOptions causal;
  causal.causal = true;
  for (Setting s : kSettings)
    for (SoftmaxApprox a : all_softmax_approx()) {
      FunctionPolicy p = default_policy(s);
      p.softmax = a;
      INFO(setting_name(s) << " softmax " << approx_name(a));
      std::vector<double> by_policy = run_policy(s, p, scores, [&](Backend& be, const Shared& v) { return softmax_by_policy(be, v, causal); });
      std::vector<double> direct = run_policy(s, p, scores, [&](Backend& be, const Shared& v) {
        return a == SoftmaxApprox::exact ? softmax(be, v, causal) : a == SoftmaxApprox::relu2 ? softmax_2relu(be, v, causal) : softmax_2quad(be, v, causal);
      });
      // Same function (values may differ by the secure truncation's one-unit randomness).
      REQUIRE(by_policy.size() == direct.size());
      for (size_t i = 0; i < direct.size(); ++i) CHECK(std::fabs(by_policy[i] - direct[i]) <= 3 * kUlp);
    }
  RingTensor x = random_fixed({200}, -6, 6, kFxp);
  std::vector<double> xs = kFxp.decode(x);
  for (Setting s : kSettings)
    for (ActApprox a : all_act_approx())
      for (Activation exact : {Activation::silu, Activation::gelu}) {
        FunctionPolicy p = default_policy(s);
        p.act = a;
        INFO(setting_name(s) << " act " << approx_name(a) << (exact == Activation::silu ? " (silu)" : " (gelu)"));
        auto ref = [&](double v) {
          if (a == ActApprox::relu) return std::max(v, 0.0);
          if (a == ActApprox::quad) return 0.125 * v * v + 0.25 * v + 0.5;
          return exact == Activation::silu ? silu_ref(v) : gelu_ref(v);
        };
        CHECK(worst(x, run_policy(s, p, x, [exact](Backend& be, const Shared& v) { return activation(be, v, exact); }), ref, 3.5e-5, 0) <= 1);
      }
}
