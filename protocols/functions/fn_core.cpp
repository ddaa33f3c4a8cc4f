#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>

#include "protocols/functions/fn_internal.h"

namespace marill::fn {

u64 enc(double v, int bits) {
  double s = std::ldexp(v, bits);
  if (!(std::fabs(s) < std::ldexp(1.0, 62)))
    throw std::invalid_argument("fixed-point constant " + std::to_string(v) + " at " + std::to_string(bits) +
                                " bits overflows");
  return static_cast<u64>(static_cast<i64>(std::llround(s)));
}

RingTensor fill(const Backend& be, const Shape& shape, u64 v) {
  if (be.phantom()) return RingTensor::phantom(shape);
  return RingTensor(shape, std::vector<u64>(static_cast<size_t>(shape_numel(shape)), v));
}

RingTensor pub(const Backend& be, const Shape& shape, const std::vector<u64>& values) {
  if (be.phantom()) return RingTensor::phantom(shape);
  return RingTensor(shape, values);
}

Shared one_minus(Backend& be, const Shared& b) { return be.add_scalar(be.neg(b), 1); }

Shared add_const(Backend& be, const Shared& x, double v, int bits) { return be.add_scalar(x, enc(v, bits)); }

Shared mul_tr(Backend& be, const Shared& a, const Shared& b, int bits) {
  if (bits == be.frac_bits()) return be.mul_trunc(a, b);
  return be.mul_trunc_bits(a, b, bits);
}

Shared rescale(Backend& be, const Shared& x, int from, int to) {
  if (from > to) return be.trunc(x, from - to);
  if (from < to) return be.scale(x, u64{1} << (to - from));
  return x;
}

int cmp_bits(int frac, double max_abs) {
  int e = max_abs > 1 ? static_cast<int>(std::ceil(std::log2(max_abs))) : 0;
  return std::clamp(frac + e + 2, 3, 64);
}

const SplineTable& cached_spline(const std::string& key, const std::function<SplineTable()>& make) {
  static std::mutex mu;
  static std::map<std::string, SplineTable> cache;  // node-based: references stay valid
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, make()).first;
  return it->second;
}

int cmp_low(int frac, double max_abs, double resolution) {
  if (!(resolution > 0)) return 0;
  const int low = frac + static_cast<int>(std::floor(std::log2(resolution)));
  return std::clamp(low, 0, cmp_bits(frac, max_abs) - 3);
}

Shared less_than_zero(Backend& be, const Shared& x, int frac, double max_abs, double resolution) {
  return be.ltz(x, cmp_bits(frac, max_abs), cmp_low(frac, max_abs, resolution));
}

Shared negative_part(Backend& be, const Shared& x, int frac, double max_abs, double resolution) {
  return be.negative_part(x, cmp_bits(frac, max_abs), cmp_low(frac, max_abs, resolution));
}

// ---- batching ----

Shared reshape(Backend& be, const Shared& x, const Shape& shape) {
  return be.map(x, [&](const RingTensor& t) { return t.reshaped(shape); });
}

Shared pack(Backend& be, const std::vector<Shared>& xs) {
  if (xs.size() == 1) return reshape(be, xs[0], {xs[0].numel()});
  std::vector<Shared> flat;
  flat.reserve(xs.size());
  for (const auto& x : xs) flat.push_back(reshape(be, x, {x.numel()}));
  return be.concat(flat, 0);
}

std::vector<Shared> unpack(Backend& be, const Shared& packed, const std::vector<Shape>& shapes) {
  std::vector<Shared> out;
  i64 at = 0;
  for (const auto& s : shapes) {
    i64 n = shape_numel(s);
    out.push_back(be.map(packed, [&](const RingTensor& t) { return slice(t, 0, at, at + n).reshaped(s); }));
    at += n;
  }
  return out;
}

namespace {
std::vector<Shape> shapes_of(const std::vector<Shared>& xs) {
  std::vector<Shape> s;
  for (const auto& x : xs) s.push_back(x.shape());
  return s;
}
}  // namespace

std::vector<Shared> mul_many(Backend& be, const std::vector<Shared>& a, const std::vector<Shared>& b) {
  return unpack(be, be.mul(pack(be, a), pack(be, b)), shapes_of(a));
}

std::vector<Shared> mul_tr_many(Backend& be, const std::vector<Shared>& a, const std::vector<Shared>& b, int bits) {
  return unpack(be, mul_tr(be, pack(be, a), pack(be, b), bits), shapes_of(a));
}

std::vector<Shared> trunc_many(Backend& be, const std::vector<Shared>& xs, int bits) {
  return unpack(be, be.trunc(pack(be, xs), bits), shapes_of(xs));
}

// ---- data movement ----

Shared gather(Backend& be, const Shared& x, const std::vector<i64>& idx, const Shape& out) {
  return be.map(x, [&](const RingTensor& t) { return gather_flat(t, idx, out); });
}

Shared scatter(Backend& be, const Shared& x, const std::vector<i64>& idx, const Shape& out) {
  return be.map(x, [&](const RingTensor& t) { return scatter_flat(t, idx, out); });
}

Shared broadcast_cols(Backend& be, const Shared& col, i64 n) {
  return be.map(col, [n](const RingTensor& t) { return broadcast_last(t, n); });
}

RingTensor tile_rows(const RingTensor& row, i64 rows) {
  Shape out{rows, row.numel()};
  if (row.is_phantom()) return RingTensor::phantom(out);
  RingTensor r(out);
  for (i64 i = 0; i < rows; ++i) std::copy(row.data(), row.data() + row.numel(), r.data() + i * row.numel());
  return r;
}

Shared tile_rows(Backend& be, const Shared& row, i64 rows) {
  return be.map(row, [rows](const RingTensor& t) { return tile_rows(t, rows); });
}

Shared sum_last(Backend& be, const Shared& x) {
  return be.map(x, [](const RingTensor& t) { return marill::sum_last(t); });
}

// ---- polynomials ----

std::vector<Shared> powers(Backend& be, const Shared& t, int d, int F) {
  std::vector<Shared> pw(static_cast<size_t>(std::max(d, 1)) + 1);
  pw[1] = t;
  int have = 1;
  while (have < d) {
    int top = std::min(2 * have, d);
    std::vector<Shared> a, b;
    for (int k = have + 1; k <= top; ++k) {
      a.push_back(pw[static_cast<size_t>(have)]);
      b.push_back(pw[static_cast<size_t>(k - have)]);
    }
    std::vector<Shared> r = mul_tr_many(be, a, b, F);
    for (int k = have + 1; k <= top; ++k) pw[static_cast<size_t>(k)] = r[static_cast<size_t>(k - have - 1)];
    have = top;
  }
  return pw;
}

namespace {
// Coefficient bits G so that a sum at F + G bits of magnitude up to `bound` stays below 2^61.
int coefficient_bits(int F, double bound, const char* who) {
  const int G = std::min(40, 61 - F - static_cast<int>(std::ceil(std::log2(std::max(bound, 1.0)))) - 1);
  if (G < 12) throw std::invalid_argument(std::string(who) + ": no room for coefficient precision");
  return G;
}

// sum_j q[j] t^j at F + G bits: public scalings of pw[1..].
Shared block_value(Backend& be, const std::vector<Shared>& pw, const std::vector<double>& q, int F, int G) {
  Shared acc;
  for (size_t j = 1; j < q.size(); ++j) {
    Shared term = be.scale(pw[j], enc(q[j], G));
    acc = acc.s0.defined() ? be.add(acc, term) : term;
  }
  return acc.s0.defined() ? be.add_scalar(acc, enc(q[0], F + G)) : be.add_scalar(be.scale(pw[1], 0), enc(q[0], F + G));
}
}  // namespace

Shared poly_eval(Backend& be, const std::vector<Shared>& pw, const std::vector<double>& coefs, int F, int out_bits,
                 double bound) {
  const int G = coefficient_bits(F, bound, "poly_eval");
  if (G + F < out_bits) throw std::invalid_argument("poly_eval: no room for coefficient precision");
  return rescale(be, block_value(be, pw, coefs, F, G), F + G, out_bits);
}

namespace {
constexpr int kMinHornerBits = 16;  // fewer coefficient bits than this: truncate the blocks instead

// p = u q + r for u = T_4(t) = 8t^4 - 8t^2 + 1 (coefficients low to high): {q, r}, deg r <= 3.
std::pair<std::vector<double>, std::vector<double>> divide_by_t4(std::vector<double> p) {
  const double u[5] = {1, 0, -8, 0, 8};
  std::vector<double> q(p.size() > 4 ? p.size() - 4 : 1, 0.0);
  for (size_t top = p.size(); top-- > 4;) {
    const double c = p[top] / u[4];
    q[top - 4] = c;
    for (size_t j = 0; j < 5; ++j) p[top - 4 + j] -= c * u[j];
  }
  p.resize(4);
  return {q, p};
}

constexpr int kBlock = 4;  // coefficients per block: the baby steps t..t^4

// What poly_eval_blocked_raw evaluates, decided in the clear from the public coefficients.
struct HornerPlan {
  bool chebyshev = false;              // the giant step is u = T_4(t), else t^4
  std::vector<std::vector<double>> q;  // block i's coefficients in t^0..t^k
  std::vector<int> bits;               // G_i: block i at F + G_i bits
};

HornerPlan plan_horner(const std::vector<double>& coefs, int F, double tmax, Horner horner) {
  const size_t d = coefs.size() - 1, k = kBlock;
  // Blocks of k coefficients; a last block of one coefficient joins the one before (degree k). Up
  // to degree k + 1 one block: powers() alone is as cheap.
  size_t blocks = d <= k + 1 ? 1 : (d + k) / k;
  if (blocks > 1 && (d + 1) % k == 1) --blocks;
  HornerPlan plan;
  plan.chebyshev = horner == Horner::chebyshev && blocks > 1;
  if (plan.chebyshev && tmax > 1) throw std::invalid_argument("poly_eval_blocked: the Chebyshev form needs |t| <= 1");
  // Block i's coefficients: p's slices (p = q_0 + t^4 (q_1 + ..)), or its remainders by u = T_4(t)
  // (p = q_0 + u (q_1 + ..)), which stay near p's Chebyshev coefficients on [-1, 1].
  if (plan.chebyshev) {
    std::vector<double> rest = coefs;
    for (size_t i = 0; i + 1 < blocks; ++i) {
      auto [quotient, remainder] = divide_by_t4(rest);
      plan.q.push_back(remainder);
      rest = quotient;
    }
    plan.q.push_back(rest);
  } else {
    for (size_t i = 0; i < blocks; ++i)
      plan.q.emplace_back(coefs.begin() + static_cast<std::ptrdiff_t>(k * i),
                          i + 1 == blocks ? coefs.end() : coefs.begin() + static_cast<std::ptrdiff_t>(k * (i + 1)));
  }
  auto block_bound = [&](const std::vector<double>& q) {  // sum |q_j| tmax^j
    double b = 0;
    for (size_t j = 0; j < q.size(); ++j) b += std::fabs(q[j]) * std::pow(tmax, static_cast<double>(j));
    return b;
  };
  // Horner in the giant step g (t^k, or u with |u| <= 1): s_{B-1} = q_{B-1}, s_i = q_i + g s_{i+1};
  // |s_i| <= S[i].
  const double gmax = plan.chebyshev ? 1.0 : std::pow(tmax, static_cast<double>(k));
  std::vector<double> S(blocks);
  for (size_t i = blocks; i-- > 0;) S[i] = block_bound(plan.q[i]) + (i + 1 < blocks ? gmax * S[i + 1] : 0.0);

  std::vector<int>& G = plan.bits;
  G.resize(blocks);
  if (horner == Horner::truncated || blocks == 1) {
    double mag = block_bound(coefs);
    for (size_t i = 0; i < blocks; ++i) mag = std::max({mag, block_bound(plan.q[i]), S[i]});
    std::fill(G.begin(), G.end(), coefficient_bits(F, mag, "poly_eval_blocked"));
    for (size_t i = 1; i < blocks; ++i)  // g s_i at 2F bits must not wrap
      if (2 * F + std::log2(gmax * S[i]) >= 62)
        throw std::invalid_argument("poly_eval_blocked: g s_" + std::to_string(i) + " overflows at " + std::to_string(2 * F) + " bits");
    return plan;
  }
  // Untruncated blocks: g (F bits) times s_i (F + G_i bits) must stay below 2^62 (the truncation's
  // promise), which bounds G_i for i >= 1. The truncations telescope to B F + G_{B-1} - (the
  // caller's final scale), so only the last block's bits cost bytes: blocks past the second take no
  // more bits than block 1 (no term needs more than block 1's). Block 0 is in no product: as many
  // bits as its sum allows. Each Horner step truncates by F + G_{i+1} - G_i >= 1.
  auto room = [&](size_t i) {
    const int sum_room = coefficient_bits(F, S[i], "poly_eval_blocked");
    const double product = gmax * S[i];  // 0: a block of zeros, any bits fit
    return product > 0 ? std::min(sum_room, static_cast<int>(std::floor(62 - 2 * F - std::log2(product) - 1e-9))) : sum_room;
  };
  for (size_t i = 1; i < blocks; ++i) G[i] = i == 1 ? room(1) : std::min(room(i), G[1]);
  G[0] = coefficient_bits(F, S[0], "poly_eval_blocked");
  for (size_t i = blocks - 1; i-- > 0;) G[i] = std::min(G[i], F + G[i + 1] - 1);
  for (size_t i = 0; i < blocks; ++i)
    if (G[i] < kMinHornerBits)
      throw std::invalid_argument("poly_eval_blocked: untruncated blocks leave block " + std::to_string(i) + " " + std::to_string(G[i]) + " coefficient bits (" + std::to_string(kMinHornerBits) + " needed); lower F or truncate the blocks");
  return plan;
}
}  // namespace

FixedShared poly_eval_blocked_raw(Backend& be, const Shared& t, const std::vector<double>& coefs, int F, double tmax,
                                  Horner horner) {
  const HornerPlan plan = plan_horner(coefs, F, tmax, horner);
  const std::vector<int>& G = plan.bits;
  const size_t blocks = plan.q.size();
  const std::vector<Shared> pw = powers(be, t, blocks == 1 ? static_cast<int>(coefs.size()) - 1 : kBlock, F);
  std::vector<Shared> q;  // q_i at F + G_i bits
  for (size_t i = 0; i < blocks; ++i) q.push_back(block_value(be, pw, plan.q[i], F, G[i]));
  if (blocks == 1) return {q[0], F + G[0]};
  // u = 8 t^4 - 8 t^2 + 1 at F bits from the powers, no product and no truncation of its own (t^2's
  // and t^4's rounding, scaled by 8).
  const Shared giant = plan.chebyshev ? be.add_scalar(be.sub(be.scale(pw[4], 8), be.scale(pw[2], 8)), u64{1} << F) : pw[kBlock];
  if (horner != Horner::truncated) {  // s_i = q_i + g s_{i+1} truncated to F + G_i: B - 1 products
    Shared s = q.back();
    for (size_t i = blocks - 1; i-- > 0;) s = be.add(q[i], mul_tr(be, giant, s, F + G[i + 1] - G[i]));
    return {s, F + G[0]};
  }
  // The blocks past the first at F bits in one batch, then one product per block: B - 1 products,
  // where giant steps would first form t^8, t^12, .. (B - 2 products more).
  const int Gc = G[0];
  std::vector<Shared> high = trunc_many(be, std::vector<Shared>(q.begin() + 1, q.end()), Gc);  // high[i-1] = q_i
  Shared s = high.back();
  for (size_t i = blocks - 2; i >= 1; --i) s = be.add(high[i - 1], mul_tr(be, giant, s, F));
  return {be.add(q[0], be.scale(mul_tr(be, giant, s, F), u64{1} << Gc)), F + Gc};
}

Shared poly_eval_blocked(Backend& be, const Shared& t, const std::vector<double>& coefs, int F, int out_bits, double tmax) {
  const FixedShared p = poly_eval_blocked_raw(be, t, coefs, F, tmax);
  if (p.bits < out_bits) throw std::invalid_argument("poly_eval_blocked: " + std::to_string(out_bits) + " output bits from " + std::to_string(p.bits));
  return rescale(be, p.v, p.bits, out_bits);
}

// ---- range reduction for d^p ----

namespace {

struct Segment {
  double start;   // lower end (the first segment's is taken as satisfied)
  int j;          // binade: d in [B^j, B^(j+1))
  int piece;      // index into the mantissa pieces
};

// Piecewise-linear y0 = alpha - beta m ~ m^p on each mantissa piece, minimax for the iteration's
// error eps (reciprocal: eps = 1 - m y0, |eps| <= 0.0204; rsqrt: eps = 1 - m y0^2, |eps| <= 0.0154).
// Fitted by nested ternary search on a 2001-point grid.
struct Piece {
  double mu;  // piece starts at mu * B^j (in units of the binade)
  double alpha, beta;
};
const Piece kRecipPieces[] = {{1.0, 3.265306122282, 2.612244897723}, {1.5, 2.309278350264, 1.319587628591}};
const Piece kRsqrtPieces[] = {{1.0, 2.712948587860, 2.913432926397},
                              {1.5, 2.280451439067, 1.743447471891},
                              {2.0, 1.918344343291, 1.030054089034},
                              {3.0, 1.612522677061, 0.616401765374}};

// Sum_i I_i c_i over the one-hot segment indicator, written with the threshold bits b_i = [d >=
// theta_i] (I_0 = 1 - b_1, I_i = b_i - b_{i+1}, I_K = b_K): c_0 + sum_i b_i (c_i - c_{i-1}).
Shared one_hot_dot(Backend& be, const std::vector<Shared>& bits, const std::vector<u64>& c, const Shape& shape) {
  if (bits.empty()) return be.constant(fill(be, shape, c[0]));
  Shared acc;
  for (size_t i = 0; i < bits.size(); ++i) {
    Shared term = be.scale(bits[i], c[i + 1] - c[i]);
    acc = i == 0 ? term : be.add(acc, term);
  }
  return be.add_scalar(acc, c[0]);
}

}  // namespace

namespace {
// FSS form of the mantissa step: m^-1 on [1/2, 1) or m^-1/2 on [1/4, 1) as one spline gate
// (relative error <= 1e-7 / 3e-7 per piece, knots on a 2^-12 grid), replacing the initial guess and
// the 3 (4) multiplicative levels. Edges are widened by 2^-8 with Taylor tails, for m's rounding.
const SplineTable& mantissa_spline(bool rsqrt, int F) {
  const std::string key = std::string(rsqrt ? "rsqrt" : "recip") + " mantissa " + std::to_string(F);
  return cached_spline(key, [&] {
    const double B = rsqrt ? 4.0 : 2.0, pad = std::ldexp(1.0, -8);
    auto f = [rsqrt](double m) { return rsqrt ? 1 / std::sqrt(m) : 1 / m; };
    auto taylor = [&](double o) {  // f(o) + f'(o) (x-o) + f''(o)/2 (x-o)^2
      SplinePiece p;
      p.o = o;
      p.b = rsqrt ? std::array<double, 4>{std::pow(o, -0.5), -0.5 * std::pow(o, -1.5), 0.375 * std::pow(o, -2.5)}
                  : std::array<double, 4>{1 / o, -1 / (o * o), 1 / (o * o * o)};
      return p;
    };
    SplineFit fit;
    fit.name = rsqrt ? "rsqrt mantissa" : "reciprocal mantissa";
    fit.f = f;
    fit.lo = 1 / B - pad;
    fit.hi = 1 + pad;
    fit.left_tail = taylor(fit.lo);
    fit.right_tail = taylor(fit.hi);
    fit.tol = rsqrt ? 3e-7 : 1e-7;
    fit.relative = true;
    fit.in_frac = fit.out_frac = F;
    fit.cmp_shift = F - 12;
    fit.in_bound = 2;
    fit.out_bound = 2.1;
    return fit_spline(fit);
  });
}
}  // namespace

InvPow inv_pow(Backend& be, const Shared& d, int in_bits, double lo, double hi, bool rsqrt, double out_scale,
               int o_bits, int y_bits) {
  if (!(lo > 0) || !(hi > lo)) throw std::invalid_argument("inv_pow: need 0 < lo < hi");
  const double B = rsqrt ? 4.0 : 2.0;
  const Piece* pieces = rsqrt ? kRsqrtPieces : kRecipPieces;
  const int npieces = rsqrt ? 4 : 2;

  // Segments covering [lo, hi], in increasing order.
  std::vector<Segment> segs;
  const double lb = rsqrt ? 2.0 : 1.0;  // log2 B (exact at powers of two)
  int jlo = static_cast<int>(std::floor(std::log2(lo) / lb));
  int jhi = static_cast<int>(std::floor(std::log2(hi) / lb));
  for (int j = jlo; j <= jhi; ++j) {
    double base = std::pow(B, j);
    for (int g = 0; g < npieces; ++g) {
      double s = pieces[g].mu * base, e = (g + 1 < npieces ? pieces[g + 1].mu : B) * base;
      if (e > lo && s < hi) segs.push_back({s, j, g});
    }
  }
  // m = d B^-(j+1) with the constants at S bits (m beta stays below 2^61); beta sigma keeps >= 6
  // significant bits at the top binade (init off by <= 1%, which the iteration absorbs).
  const int S = 58 - in_bits;
  int jtop = segs.back().j;
  if (static_cast<int>(std::ceil((jtop + 1) * std::log2(B))) + 6 > S)
    throw std::invalid_argument("inv_pow: range [" + std::to_string(lo) + ", " + std::to_string(hi) +
                                "] too wide for inputs at " + std::to_string(in_bits) + " bits");

  const Shape shape = d.shape();
  const size_t K = segs.size() - 1;  // thresholds

  // One comparison of d against every threshold (Backend::ltz_knots: 2pc-dealer one key and one
  // opening per element, not per threshold): b_i = [d >= theta_i] = 1 - [d < theta_i].
  std::vector<Shared> bits;
  if (K > 0) {
    std::vector<u64> thetas;
    for (size_t i = 1; i < segs.size(); ++i) thetas.push_back(enc(segs[i].start, in_bits));
    Shared lt = reshape(be, be.ltz_knots(d, thetas, cmp_bits(in_bits, hi * 1.5)), {static_cast<i64>(K) * d.numel()});
    std::vector<Shape> shapes(K, shape);
    for (auto& b : unpack(be, lt, shapes)) bits.push_back(one_minus(be, b));
  }

  std::vector<u64> c_sigma, c_beta_sigma, c_alpha, c_omega;
  for (const auto& s : segs) {
    double sigma = std::pow(B, -(s.j + 1));
    c_sigma.push_back(enc(sigma, S));
    c_beta_sigma.push_back(enc(pieces[s.piece].beta * sigma, S));
    c_alpha.push_back(enc(pieces[s.piece].alpha, y_bits));
    c_omega.push_back(enc(out_scale * std::ldexp(1.0, -(s.j + 1)), o_bits));
  }
  Shared z = one_hot_dot(be, bits, c_sigma, shape);
  Shared zb = one_hot_dot(be, bits, c_beta_sigma, shape);
  Shared alpha = one_hot_dot(be, bits, c_alpha, shape);
  Shared o = one_hot_dot(be, bits, c_omega, shape);

  // m = d sigma and beta m in one multiplication and one truncation.
  std::vector<Shared> prod = mul_many(be, {d, d}, {z, zb});
  std::vector<Shared> tr = trunc_many(be, prod, in_bits + S - y_bits);
  const Shared& m = tr[0];
  Shared y0 = be.sub(alpha, tr[1]);

  const int F = y_bits;
  const u64 one = enc(1.0, F);
  Shared y;
  if ((rsqrt ? be.policy().rsqrt : be.policy().reciprocal) == InvMethod::spline) {
    y = be.spline(m, mantissa_spline(rsqrt, F));  // one gate in 2pc-dealer: 3 rounds instead of 6 (8)
  } else if (!rsqrt) {
    // Goldschmidt: 1/m = y0 / (1 - eps) ~ y0 (1 + eps)(1 + eps^2), error eps^4 <= 1.8e-7.
    Shared eps = be.add_scalar(be.neg(mul_tr(be, m, y0, F)), one);
    std::vector<Shared> l2 = mul_tr_many(be, {y0, eps}, {be.add_scalar(eps, one), eps}, F);
    y = mul_tr(be, l2[0], be.add_scalar(l2[1], one), F);
  } else {
    // 1/sqrt(m) = y0 (1 - eps)^(-1/2) ~ y0 (1 + eps/2 + 3 eps^2/8), eps = 1 - m y0^2; error
    // (5/16) eps^3 <= 1.2e-6.
    Shared my = mul_tr(be, m, y0, F);
    Shared eps = be.add_scalar(be.neg(mul_tr(be, my, y0, F)), one);
    Shared ye = mul_tr(be, y0, eps, F);
    // w = 1/2 + 3 eps / 8 exactly, at F + 3 bits.
    Shared w = be.add_scalar(be.scale(eps, 3), enc(0.5, F + 3));
    y = be.add(y0, mul_tr(be, ye, w, F + 3));
  }
  return InvPow{y, y_bits, o, o_bits};
}

// ---- tournament max ----

namespace {
// Columns [start, start+2, ...) of a (R, n) tensor: `count` of them.
Shared strided_cols(Backend& be, const Shared& x, i64 rows, i64 n, i64 start, i64 count) {
  if (x.phantom()) return gather(be, x, {}, {rows, count});  // no data, no index list
  std::vector<i64> idx;
  idx.reserve(static_cast<size_t>(rows * count));
  for (i64 r = 0; r < rows; ++r)
    for (i64 c = 0; c < count; ++c) idx.push_back(r * n + start + 2 * c);
  return gather(be, x, idx, {rows, count});
}
}  // namespace

MaxResult tournament_max(Backend& be, const Shared& x, double bound, bool want_index, double resolution) {
  if (x.shape().size() != 2) throw std::invalid_argument("tournament_max: want (R, n), got " + shape_str(x.shape()));
  if (want_index && resolution > 0) throw std::invalid_argument("tournament_max: an index needs exact comparisons");
  const i64 R = x.shape()[0];
  i64 n = x.shape()[1];
  const int bits = cmp_bits(be.frac_bits(), 2 * bound), low = cmp_low(be.frac_bits(), 2 * bound, resolution);
  Shared cur = x, idx;
  bool idx_public = true;  // level 1 indices are public: the first select on them is local

  while (n > 1) {
    const i64 h = n / 2;
    const bool odd = n % 2;
    Shared a = strided_cols(be, cur, R, n, 0, h), b = strided_cols(be, cur, R, n, 1, h);
    Shared mx, ix;
    if (!want_index) {
      mx = be.sub(a, be.negative_part(be.sub(a, b), bits, low));  // a - min(a - b, 0) = max(a, b)
    } else if (!idx_public) {
      const Shared bit = be.ltz(be.sub(a, b), bits);  // [a < b]: take b
      Shared ia = strided_cols(be, idx, R, n, 0, h), ib = strided_cols(be, idx, R, n, 1, h);
      std::vector<Shared> r = mul_many(be, {bit, bit}, {be.sub(b, a), be.sub(ib, ia)});
      mx = be.add(a, r[0]);
      ix = be.add(ia, r[1]);
    } else {
      const Shared bit = be.ltz(be.sub(a, b), bits);
      mx = be.add(a, be.mul(bit, be.sub(b, a)));
      // ib - ia = 1 for neighbours at the first level: index = 2c + bit.
      std::vector<u64> base;
      if (!be.phantom())
        for (i64 r = 0; r < R; ++r)
          for (i64 c = 0; c < h; ++c) base.push_back(static_cast<u64>(2 * c));
      ix = be.add_public(bit, pub(be, {R, h}, base));
    }
    if (odd) {
      Shared last = be.map(cur, [&](const RingTensor& t) { return slice(t, 1, n - 1, n); });
      mx = be.concat({mx, last}, 1);
      if (want_index) {
        Shared il = idx_public ? be.constant(fill(be, {R, 1}, static_cast<u64>(n - 1)))
                               : be.map(idx, [&](const RingTensor& t) { return slice(t, 1, n - 1, n); });
        ix = be.concat({ix, il}, 1);
      }
    }
    cur = mx;
    if (want_index) {
      idx = ix;
      idx_public = false;
    }
    n = h + (odd ? 1 : 0);
  }
  MaxResult res{cur, {}};
  if (want_index) res.index = idx_public ? be.constant(fill(be, {R, 1}, 0)) : idx;
  return res;
}

NearMaxPlan near_max_plan(int frac, double bound, i64 n, double budget) {
  int levels = 0;
  while ((i64{1} << levels) < n) ++levels;
  if (levels == 0) return {};
  NearMaxPlan p;
  p.resolution = budget / levels;
  // Each level misjudges only pairs closer than 2^(low - frac) (the comparisons' cmp_low).
  p.slack = levels * std::ldexp(1.0, cmp_low(frac, 2 * bound, p.resolution) - frac);
  return p;
}

Shared ragged_max(Backend& be, const Shared& x, const RowLengths& lengths, double bound, double resolution) {
  lengths.check("ragged_max");
  const int bits = cmp_bits(be.frac_bits(), 2 * bound), low = cmp_low(be.frac_bits(), 2 * bound, resolution);
  const bool lists = !x.phantom();  // phantom values need shapes only
  Shared cur = fn::reshape(be, x, {x.numel()});
  // After k levels a row of L elements holds ceil(L / 2^k): its neighbours (2j, 2j+1) met, an odd
  // row's last element waited. Elements stay grouped by row: the pairs' maxima, then the waiting one.
  for (int k = 0;; ++k) {
    auto len = [&](i64 r) { return ((lengths[r] - 1) >> k) + 1; };
    i64 pairs = 0, carried = 0;
    for (i64 r = 0; r < lengths.rows; ++r) {
      pairs += len(r) / 2;
      carried += len(r) % 2;
    }
    if (pairs == 0) break;
    std::vector<i64> ia, ib, ic, order;
    if (lists) {
      i64 off = 0, next_pair = 0, next_carry = pairs;
      for (i64 r = 0; r < lengths.rows; ++r) {
        const i64 l = len(r);
        for (i64 j = 0; j < l / 2; ++j) {
          ia.push_back(off + 2 * j);
          ib.push_back(off + 2 * j + 1);
          order.push_back(next_pair++);
        }
        if (l % 2) {
          ic.push_back(off + l - 1);
          order.push_back(next_carry++);
        }
        off += l;
      }
    }
    Shared a = gather(be, cur, ia, {pairs}), b = gather(be, cur, ib, {pairs});
    Shared mx = be.sub(a, be.negative_part(be.sub(a, b), bits, low));  // max(a, b) = a - min(a - b, 0)
    cur = carried ? gather(be, be.concat({mx, gather(be, cur, ic, {carried})}, 0), order, {pairs + carried}) : mx;
  }
  return fn::reshape(be, cur, {lengths.rows, 1});
}

KeepList causal_keep(const Shape& s, bool causal, i64 offset, bool materialize) {
  KeepList k;
  k.count = shape_numel(s);
  if (!causal) return k;
  if (s.size() < 2) throw std::invalid_argument("softmax: scores need (..., Tq, Tk), got " + shape_str(s));
  const i64 tk = s.back(), tq = s[s.size() - 2];
  if (offset >= tk - 1) return k;  // query 0 already sees every key
  if (offset < 0) throw std::invalid_argument("softmax: negative query offset");
  k.all = false;
  const i64 rows = shape_numel(s) / tk;
  k.lengths = {rows, offset + 1, tq, tk};
  k.count = k.lengths.total();
  if (!materialize) return k;
  k.pos.reserve(static_cast<size_t>(k.count));
  k.row.reserve(static_cast<size_t>(k.count));
  for (i64 r = 0; r < rows; ++r)
    for (i64 j = 0; j < k.lengths[r]; ++j) {
      k.pos.push_back(r * tk + j);
      k.row.push_back(r);
    }
  return k;
}

}  // namespace marill::fn
