#include "runner/function_bench.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>

#include "protocols/functions/functions.h"

namespace marill {

namespace {

constexpr const char* kScope = "bench-function";  // the op scope the bench wraps each call in
constexpr double kRelFloor = 1e-2;                // relative error only where |reference| >= this

using Values = std::vector<double>;

enum class Kind { elementwise, rows, matmul };

// One function as the bench runs it. The client holds x; the server holds w (mul's and matmul's
// second operand, RMSNorm's gamma) where the function has one.
struct Case {
  Kind kind = Kind::elementwise;
  const char* range;  // the stated input range
  int in_frac = 1;    // x's fractional bits, in units of the backend's f (trunc's input: 2f)
  int out_frac = 1;   // the output's: 1 (f), 2 (2f: mul, matmul without truncation), 0 (integer)
  bool relative = true;  // whether a relative error means something for this output
  std::function<Values(const Shape&, std::mt19937_64&)> make_x;
  std::function<Shape(const Shape&)> w_shape;  // empty: no server operand
  std::function<Values(const Shape&, std::mt19937_64&)> make_w;
  std::function<Shared(Backend&, const Shared& x, const Shared& w, const Shape&, const FunctionPolicy&)> run;
  // The reference output; argmax instead maps its output (indices) to the values they pick.
  std::function<Values(const Values& x, const Values& w, const Shape&, const FunctionPolicy&)> reference;
  std::function<Values(const Values& x, const Values& got, const Shape&)> picked;
};

i64 numel(const Shape& s) {
  i64 n = 1;
  for (i64 e : s) n *= e;
  return n;
}

Shape as_rows(const Shape& s) { return s.size() == 1 ? Shape{1, s[0]} : s; }

Values uniform(const Shape& s, double lo, double hi, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> d(lo, hi);
  Values v(static_cast<size_t>(numel(s)));
  for (double& e : v) e = d(rng);
  return v;
}

Values log_uniform(const Shape& s, double lo, double hi, std::mt19937_64& rng) {
  Values v = uniform(s, std::log(lo), std::log(hi), rng);
  for (double& e : v) e = std::exp(e);
  return v;
}

Values map(const Values& x, double (*f)(double)) {
  Values y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = f(x[i]);
  return y;
}

// The inputs uniform on [lo, hi] and a reference applied element by element.
Case elementwise(const char* range, double lo, double hi, double (*ref)(double),
                 std::function<Shared(Backend&, const Shared&)> f) {
  Case c;
  c.range = range;
  c.make_x = [lo, hi](const Shape& s, std::mt19937_64& rng) { return uniform(s, lo, hi, rng); };
  c.run = [f](Backend& be, const Shared& x, const Shared&, const Shape&, const FunctionPolicy&) { return f(be, x); };
  c.reference = [ref](const Values& x, const Values&, const Shape&, const FunctionPolicy&) { return map(x, ref); };
  return c;
}

double sigmoid_silu(double x) { return x / (1 + std::exp(-x)); }
double gelu_erf(double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); }

// Softmax over rows with the keys query i (of R) may see: j <= offset + i when causal.
Values softmax_reference(const Values& x, const Shape& shape, SoftmaxApprox approx, bool causal) {
  const i64 R = shape[0], C = shape[1], offset = C - R;
  Values out(x.size(), 0.0);
  for (i64 r = 0; r < R; ++r) {
    const i64 visible = causal ? offset + r + 1 : C;
    const double* v = &x[static_cast<size_t>(r * C)];
    double* o = &out[static_cast<size_t>(r * C)];
    double mx = *std::max_element(v, v + visible), sum = 0;
    for (i64 j = 0; j < visible; ++j) {
      o[j] = approx == SoftmaxApprox::exact   ? std::exp(v[j] - mx)
             : approx == SoftmaxApprox::relu2 ? std::max(v[j], 0.0)
                                              : (v[j] + 5) * (v[j] + 5);
      sum += o[j];
    }
    if (approx != SoftmaxApprox::exact) sum += std::ldexp(1.0, -16);  // the library's one ulp
    for (i64 j = 0; j < visible; ++j) o[j] /= sum;
  }
  return out;
}

Case softmax_case(bool causal, std::optional<SoftmaxApprox> fixed) {
  Case c;
  c.kind = Kind::rows;
  c.range = "[-20, 20]";
  c.relative = false;
  c.make_x = [](const Shape& s, std::mt19937_64& rng) { return uniform(s, -20, 20, rng); };
  c.run = [causal, fixed](Backend& be, const Shared& x, const Shared&, const Shape& shape, const FunctionPolicy& pol) {
    SoftmaxOptions o;
    o.causal = causal;
    if (causal) o.query_offset = shape[1] - shape[0];  // the last R queries of a C-token prefill
    switch (fixed.value_or(pol.softmax)) {
      case SoftmaxApprox::exact: return softmax(be, x, o);
      case SoftmaxApprox::relu2: return softmax_2relu(be, x, o);
      case SoftmaxApprox::quad2: return softmax_2quad(be, x, o);
    }
    throw std::logic_error("softmax approximation");
  };
  c.reference = [causal, fixed](const Values& x, const Values&, const Shape& s, const FunctionPolicy& pol) {
    return softmax_reference(x, s, fixed.value_or(pol.softmax), causal);
  };
  return c;
}

// Rows with variance from 1e-2 to 1e2 (row by row) and means in [-3, 3], as the norm tests use.
Values norm_rows(const Shape& s, std::mt19937_64& rng) {
  const i64 R = s[0], C = s[1];
  Values x = uniform(s, -1, 1, rng), m = uniform({R}, -3, 3, rng);
  for (i64 r = 0; r < R; ++r) {
    const double sd = std::sqrt(std::pow(10.0, R == 1 ? 0.0 : -2 + 4.0 * static_cast<double>(r) / static_cast<double>(R - 1)) * 3.0);
    for (i64 k = 0; k < C; ++k) x[static_cast<size_t>(r * C + k)] = m[static_cast<size_t>(r)] + sd * x[static_cast<size_t>(r * C + k)];
  }
  return x;
}

// Public LayerNorm weights, the same in every party: gamma_k = 0.5 + k/C, beta_k = 0.5 - k/C.
double public_gamma(i64 k, i64 C) { return 0.5 + static_cast<double>(k) / static_cast<double>(C); }
double public_beta(i64 k, i64 C) { return 0.5 - static_cast<double>(k) / static_cast<double>(C); }

Values norm_reference(const Values& x, const Shape& s, const Values& gamma, bool layer) {
  const i64 R = s[0], C = s[1];
  const double eps = NormOptions{}.eps;
  Values out(x.size());
  for (i64 r = 0; r < R; ++r) {
    const double* v = &x[static_cast<size_t>(r * C)];
    double mean = 0, sq = 0;
    if (layer) {
      for (i64 k = 0; k < C; ++k) mean += v[k];
      mean /= static_cast<double>(C);
    }
    for (i64 k = 0; k < C; ++k) sq += (v[k] - mean) * (v[k] - mean);
    const double rs = 1 / std::sqrt(sq / static_cast<double>(C) + eps);
    for (i64 k = 0; k < C; ++k) {
      const double g = layer ? public_gamma(k, C) : gamma[static_cast<size_t>(k)];
      out[static_cast<size_t>(r * C + k)] = (v[k] - mean) * rs * g + (layer ? public_beta(k, C) : 0.0);
    }
  }
  return out;
}

const std::vector<std::pair<std::string, Case>>& cases() {
  static const std::vector<std::pair<std::string, Case>> all = [] {
    std::vector<std::pair<std::string, Case>> v;
    {
      Case c = elementwise("[-24, 0]", -24, 0, [](double x) { return std::exp(x); },
                           [](Backend& be, const Shared& x) { return exp_neg(be, x); });
      v.emplace_back("exp", c);
    }
    {
      Case c = elementwise("[1, 2048] log-uniform", 1, 2048, [](double x) { return 1 / x; },
                           [](Backend& be, const Shared& x) { return reciprocal(be, x, 1, 2048); });
      c.make_x = [](const Shape& s, std::mt19937_64& rng) { return log_uniform(s, 1, 2048, rng); };
      v.emplace_back("reciprocal", c);
    }
    {
      Case c = elementwise("[0.01, 100] log-uniform", 0.01, 100, [](double x) { return 1 / std::sqrt(x); },
                           [](Backend& be, const Shared& x) { return rsqrt(be, x, 0.01, 100); });
      c.make_x = [](const Shape& s, std::mt19937_64& rng) { return log_uniform(s, 0.01, 100, rng); };
      v.emplace_back("rsqrt", c);
    }
    v.emplace_back("silu", elementwise("[-16, 16]", -16, 16, sigmoid_silu, [](Backend& be, const Shared& x) { return silu(be, x); }));
    v.emplace_back("gelu", elementwise("[-8, 8]", -8, 8, gelu_erf, [](Backend& be, const Shared& x) { return gelu(be, x); }));
    v.emplace_back("relu", elementwise("[-16, 16]", -16, 16, [](double x) { return std::max(x, 0.0); },
                                       [](Backend& be, const Shared& x) { return relu(be, x); }));
    {
      // MPCFormer's polynomial itself: the error is the fixed-point rounding, not an approximation of GeLU.
      Case c = elementwise("[-8, 8]", -8, 8, [](double x) { return 0.125 * x * x + 0.25 * x + 0.5; },
                           [](Backend& be, const Shared& x) { return quad(be, x); });
      v.emplace_back("quad", c);
    }
    v.emplace_back("softmax", softmax_case(false, std::nullopt));
    v.emplace_back("softmax-causal", softmax_case(true, std::nullopt));
    v.emplace_back("softmax-2relu", softmax_case(false, SoftmaxApprox::relu2));
    v.emplace_back("softmax-2quad", softmax_case(false, SoftmaxApprox::quad2));
    {
      Case c;
      c.kind = Kind::rows;
      c.range = "[-20, 20]";
      c.relative = false;
      c.out_frac = 0;
      c.make_x = [](const Shape& s, std::mt19937_64& rng) { return uniform(s, -20, 20, rng); };
      c.run = [](Backend& be, const Shared& x, const Shared&, const Shape&, const FunctionPolicy&) { return argmax(be, x).index; };
      // The error: how far below its row's maximum the picked element is (0 when exact).
      c.reference = [](const Values& x, const Values&, const Shape& s, const FunctionPolicy&) {
        Values mx(static_cast<size_t>(s[0]));
        for (i64 r = 0; r < s[0]; ++r) mx[static_cast<size_t>(r)] = *std::max_element(&x[static_cast<size_t>(r * s[1])], &x[static_cast<size_t>((r + 1) * s[1])]);
        return mx;
      };
      c.picked = [](const Values& x, const Values& got, const Shape& s) {
        Values v(got.size());
        for (i64 r = 0; r < s[0]; ++r) {
          const double idx = got[static_cast<size_t>(r)];
          if (idx < 0 || idx >= static_cast<double>(s[1])) throw std::runtime_error("argmax returned index " + std::to_string(idx) + " outside the row");
          v[static_cast<size_t>(r)] = x[static_cast<size_t>(r * s[1] + static_cast<i64>(idx))];
        }
        return v;
      };
      v.emplace_back("argmax", c);
    }
    {
      Case c;
      c.kind = Kind::rows;
      c.range = "row var 1e-2..1e2, mean [-3, 3]; secret gamma";
      c.make_x = norm_rows;
      c.w_shape = [](const Shape& s) { return Shape{s[1]}; };
      c.make_w = [](const Shape& s, std::mt19937_64& rng) { return uniform(s, 0.5, 1.5, rng); };
      c.run = [](Backend& be, const Shared& x, const Shared& w, const Shape&, const FunctionPolicy&) { return rmsnorm(be, x, w); };
      c.reference = [](const Values& x, const Values& w, const Shape& s, const FunctionPolicy&) { return norm_reference(x, s, w, false); };
      v.emplace_back("rmsnorm", c);
    }
    {
      Case c;
      c.kind = Kind::rows;
      c.range = "row var 1e-2..1e2, mean [-3, 3]; public gamma, beta";
      c.make_x = norm_rows;
      c.run = [](Backend& be, const Shared& x, const Shared&, const Shape& s, const FunctionPolicy&) {
        const i64 C = s[1];
        Values g(static_cast<size_t>(C)), b(static_cast<size_t>(C));
        for (i64 k = 0; k < C; ++k) g[static_cast<size_t>(k)] = public_gamma(k, C), b[static_cast<size_t>(k)] = public_beta(k, C);
        return layernorm(be, x, be.fxp().encode(g, {C}), be.fxp().encode(b, {C}));
      };
      c.reference = [](const Values& x, const Values&, const Shape& s, const FunctionPolicy&) { return norm_reference(x, s, {}, true); };
      v.emplace_back("layernorm", c);
    }
    {
      Case c = elementwise("[-16, 16]", -16, 16, [](double x) { return x < 0 ? 1.0 : 0.0; },
                           [](Backend& be, const Shared& x) { return be.ltz(x); });
      c.out_frac = 0;  // an integer 0/1 sharing
      c.relative = false;
      v.emplace_back("ltz", c);
      // The comparison the library makes of such values: on the f + 6 bits a promise |x| <= 16
      // needs (fn::less_than_zero's width), not the whole ring.
      c.run = [](Backend& be, const Shared& x, const Shared&, const Shape&, const FunctionPolicy&) { return be.ltz(x, be.frac_bits() + 6); };
      c.range = "[-16, 16] on f + 6 bits";
      v.emplace_back("ltz-range", c);
    }
    {
      Case c = elementwise("[-16, 16] at 2f bits", -16, 16, [](double x) { return x; },
                           [](Backend& be, const Shared& x) { return be.trunc(x, be.frac_bits()); });
      c.in_frac = 2;
      v.emplace_back("trunc", c);
    }
    {
      Case c;
      c.range = "[-16, 16]^2, product at 2f bits";
      c.out_frac = 2;
      c.make_x = [](const Shape& s, std::mt19937_64& rng) { return uniform(s, -16, 16, rng); };
      c.w_shape = [](const Shape& s) { return s; };
      c.make_w = c.make_x;
      c.run = [](Backend& be, const Shared& x, const Shared& w, const Shape&, const FunctionPolicy&) { return be.mul(x, w); };
      c.reference = [](const Values& x, const Values& w, const Shape&, const FunctionPolicy&) {
        Values y(x.size());
        for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] * w[i];
        return y;
      };
      v.emplace_back("mul", c);
    }
    {
      Case c;
      c.kind = Kind::matmul;
      c.range = "[-1, 1], (RxC)(CxC), at 2f bits";
      c.out_frac = 2;
      c.make_x = [](const Shape& s, std::mt19937_64& rng) { return uniform(s, -1, 1, rng); };
      c.w_shape = [](const Shape& s) { return Shape{s[1], s[1]}; };
      c.make_w = c.make_x;
      c.run = [](Backend& be, const Shared& x, const Shared& w, const Shape&, const FunctionPolicy&) { return be.matmul(x, w); };
      c.reference = [](const Values& x, const Values& w, const Shape& s, const FunctionPolicy&) {
        const i64 R = s[0], C = s[1];
        Values y(static_cast<size_t>(R * C), 0.0);
        for (i64 r = 0; r < R; ++r)
          for (i64 k = 0; k < C; ++k)
            for (i64 n = 0; n < C; ++n) y[static_cast<size_t>(r * C + n)] += x[static_cast<size_t>(r * C + k)] * w[static_cast<size_t>(k * C + n)];
        return y;
      };
      v.emplace_back("matmul", c);
    }
    return v;
  }();
  return all;
}

const Case& find_case(const std::string& name) {
  for (const auto& [n, c] : cases())
    if (n == name) return c;
  std::string known;
  for (const auto& [n, c] : cases()) known += (known.empty() ? "" : ", ") + n;
  throw std::invalid_argument("unknown function '" + name + "' (known: " + known + ")");
}

std::string shape_text(const Shape& s) {
  std::string t;
  for (i64 e : s) t += (t.empty() ? "" : "x") + std::to_string(e);
  return t;
}

// The shape the function runs on, checked: rows as R x C (a plain N is one row).
Shape run_shape(const std::string& fn, const Case& c, const Shape& s) {
  if (s.empty() || s.size() > 2 || numel(s) <= 0) throw std::invalid_argument(fn + ": bad shape '" + shape_text(s) + "'");
  if (c.kind == Kind::elementwise) return s;
  const Shape r = as_rows(s);
  if (fn == "softmax-causal" && r[0] > r[1])
    throw std::invalid_argument("softmax-causal: shape " + shape_text(s) + " has more queries than keys (R x C needs R <= C)");
  if (c.kind == Kind::matmul && r[1] > 4096) throw std::invalid_argument("matmul: inner dimension " + std::to_string(r[1]) + " above 4096");
  return r;
}

std::string fmt_err(double v) {
  if (v < 0) return "";
  char b[32];
  std::snprintf(b, sizeof b, "%.3g", v);
  return b;
}

}  // namespace

const std::vector<std::string>& bench_function_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& [n, c] : cases()) v.push_back(n);
    return v;
  }();
  return names;
}

void check_bench_function(const std::string& name) { find_case(name); }

std::vector<Shape> default_function_shapes(const std::string& name) {
  const Case& c = find_case(name);
  if (name == "softmax" || name == "softmax-2relu" || name == "softmax-2quad") return {{32, 128}, {2, 2048}};
  if (name == "softmax-causal") return {{128, 128}};
  if (name == "argmax") return {{2, 2048}};
  if (name == "rmsnorm" || name == "layernorm") return {{4, 1024}};
  if (c.kind == Kind::matmul) return {{64, 64}};
  return {{4096}};
}

Shape parse_function_shape(const std::string& text) {
  Shape s;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, 'x')) {
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(part, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (part.empty() || used != part.size() || v <= 0)
      throw std::invalid_argument("bad shape '" + text + "' (expected N or RxC with positive integers, e.g. 4096 or 32x128)");
    s.push_back(static_cast<i64>(v));
  }
  if (s.empty() || s.size() > 2 || text.back() == 'x')
    throw std::invalid_argument("bad shape '" + text + "' (expected N or RxC with positive integers, e.g. 4096 or 32x128)");
  return s;
}

double FunctionResult::online_per_element() const {
  u64 most = 0;
  for (const auto& p : online) most = std::max(most, p.online_bytes);
  return static_cast<double>(most) / static_cast<double>(elements);
}

FunctionResult run_function_bench(const FunctionBenchPoint& p) {
  const Case& c = find_case(p.function);
  const Shape shape = run_shape(p.function, c, p.shape);
  const FunctionPolicy policy = parse_policy(p.policy, default_policy(p.setting));
  const bool real = p.mode == Mode::real;

  SessionConfig cfg;
  cfg.setting = p.setting;
  cfg.fxp.frac_bits = p.frac_bits;
  cfg.phantom = !real;
  cfg.policy = policy;
  const FixedPoint in_fxp{p.frac_bits * c.in_frac};

  // The inputs as the parties see them (encoded, then decoded): the reference reads these.
  std::mt19937_64 rng(p.seed);
  const Values x = in_fxp.decode(in_fxp.encode(c.make_x(shape, rng), shape));
  const Shape w_shape = c.w_shape ? c.w_shape(shape) : Shape{1};
  const Values w = c.make_w ? cfg.fxp.decode(cfg.fxp.encode(c.make_w(w_shape, rng), w_shape)) : Values(1, 0.0);
  auto x_ring = std::make_shared<const RingTensor>(in_fxp.encode(x, shape));
  auto w_ring = std::make_shared<const RingTensor>(cfg.fxp.encode(w, w_shape));
  auto got = std::make_shared<RingTensor>();  // the output, opened to the client after the scope

  const Setting setting = p.setting;
  auto program_of = [=](Role role) -> Program {
    auto mine = [&](Role owner, const std::shared_ptr<const RingTensor>& t) {
      return real && (setting == Setting::cleartext || role == owner) ? t : std::make_shared<const RingTensor>(RingTensor::phantom(t->shape()));
    };
    auto xs = mine(Role::client, x_ring), ws = mine(Role::server, w_ring);
    return [c, shape, policy, xs, ws, got, real](Backend& be) {
      Shared xi = be.input(Role::client, *xs);
      Shared wi = be.input(Role::server, *ws);
      Shared y;
      {
        OpScope op(be.ledger(), kScope);
        y = c.run(be, xi, wi, shape, policy);
      }
      if (!real) return;
      RingTensor out = be.reveal(y, Role::client);
      if (be.role() == Role::client) *got = out;
    };
  };
  SessionResult session = run_parties(cfg, program_of);

  FunctionResult r;
  r.point = p;
  r.point.shape = shape;
  r.policy = policy_str(policy);
  r.input_range = c.range;
  r.elements = numel(shape);
  r.rounds = session.op_rounds(kScope);
  const std::string prefix = std::string(kScope) + "/";
  for (const PartyReport& party : session.parties) {
    auto on = party.ledger.by_op(Phase::online).find(kScope);
    auto off = party.ledger.by_op(Phase::offline).find(kScope);
    if (off != party.ledger.by_op(Phase::offline).end()) r.offline_bytes += off->second.bytes_sent;
    for (const auto& [path, op] : party.ledger.by_op(Phase::offline))
      if (path.compare(0, prefix.size(), prefix) == 0) r.offline_by_op[path.substr(prefix.size())] += op.bytes_sent;
    if (party.role == Role::dealer) continue;
    FunctionPartyCost cost{party.role, on != party.ledger.by_op(Phase::online).end() ? on->second.bytes_sent : 0, {}};
    for (const auto& [path, op] : party.ledger.by_op(Phase::online))
      if (path.compare(0, prefix.size(), prefix) == 0) cost.by_op[path.substr(prefix.size())] = op.bytes_sent;
    r.online.push_back(std::move(cost));
  }
  if (!real) return r;

  Values out;
  if (c.out_frac == 0) {
    for (i64 i = 0; i < got->numel(); ++i) out.push_back(static_cast<double>(static_cast<i64>((*got)[i])));
  } else {
    out = FixedPoint{p.frac_bits * c.out_frac}.decode(*got);
  }
  if (c.picked) out = c.picked(x, out, shape);
  const Values want = c.reference(x, w, shape, policy);
  if (want.size() != out.size()) throw std::logic_error(p.function + ": output size differs from the reference's");
  r.has_error = true;
  r.max_rel_err = c.relative ? 0.0 : -1.0;
  for (size_t i = 0; i < out.size(); ++i) {
    const double e = std::fabs(out[i] - want[i]);
    r.max_abs_err = std::max(r.max_abs_err, e);
    if (c.relative && std::fabs(want[i]) >= kRelFloor) r.max_rel_err = std::max(r.max_rel_err, e / std::fabs(want[i]));
  }
  return r;
}

std::vector<FunctionRow> function_rows(const FunctionResult& r) {
  std::vector<FunctionRow> rows;
  for (const FunctionPartyCost& party : r.online) {
    FunctionRow row;
    row.setting = setting_name(r.point.setting);
    row.function = r.point.function;
    row.policy = r.policy;
    row.shape = shape_text(r.point.shape);
    row.mode = mode_name(r.point.mode);
    row.party = role_name(party.role);
    row.input_range = r.input_range;
    row.elements = r.elements;
    row.online_bytes = party.online_bytes;
    row.online_per_element = static_cast<double>(party.online_bytes) / static_cast<double>(r.elements);
    row.rounds = r.rounds;
    row.offline_bytes = r.offline_bytes;
    row.offline_per_element = r.offline_per_element();
    if (r.has_error) {
      row.max_abs_err = fmt_err(r.max_abs_err);
      row.max_rel_err = fmt_err(r.max_rel_err);
    }
    rows.push_back(row);
  }
  return rows;
}

const char* function_csv_header() {
  return "setting,function,policy,shape,elements,mode,party,online_bytes,online_bytes_per_element,rounds,offline_bytes,"
         "offline_bytes_per_element,max_abs_err,max_rel_err,input_range";
}

std::string csv_line(const FunctionRow& r) {
  auto quoted = [](const std::string& s) { return "\"" + s + "\""; };  // policy and range hold commas
  std::ostringstream o;
  o << r.setting << ',' << r.function << ',' << quoted(r.policy) << ',' << r.shape << ',' << r.elements << ',' << r.mode << ','
    << r.party << ',' << r.online_bytes << ',' << r.online_per_element << ',' << r.rounds << ',' << r.offline_bytes << ','
    << r.offline_per_element << ',' << r.max_abs_err << ',' << r.max_rel_err << ',' << quoted(r.input_range);
  return o.str();
}

}  // namespace marill
