#include "protocols/fss/spline.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace marill {

namespace {

i64 round_checked(long double v, const std::string& what) {
  if (!(std::fabs(v) < 4.0e18L)) throw std::invalid_argument("spline " + what + ": coefficient out of the ring's range");
  return static_cast<i64>(std::llround(v));
}

int scale_for(double out_bound) {
  const int e = out_bound > 1 ? static_cast<int>(std::ceil(std::log2(out_bound))) : 0;
  return 60 - e;
}

struct RingPiece {
  i64 O, B0, B1, B2;
};

// A piece's monomials in x, exact in long double: C_j = sum_k b_k binom(k, j) (-o)^(k-j).
std::array<long double, 4> monomials(const SplinePiece& p) {
  const long double o = p.o;
  std::array<long double, 4> c{};
  for (int j = 0; j <= 3; ++j)
    for (int k = j; k <= 3; ++k) {
      long double binom = 1, pw = 1;
      for (int i = 0; i < j; ++i) binom = binom * (k - i) / (i + 1);
      for (int i = 0; i < k - j; ++i) pw *= -o;
      c[static_cast<size_t>(j)] += static_cast<long double>(p.b[static_cast<size_t>(k)]) * binom * pw;
    }
  return c;
}

// A cubic table's piece: its monomials, C0 and C1 rounded at scale lo, C2 and C3 at scale hi
// (spline.h: Horner form).
std::array<i64, 4> cubic_ring_coefs(const SplinePiece& p, int lo, int hi, const std::string& name) {
  const std::array<long double, 4> m = monomials(p);
  std::array<i64, 4> c{};
  for (size_t j = 0; j <= 3; ++j) c[j] = round_checked(std::ldexp(m[j], j >= 2 ? hi : lo), name);
  return c;
}

// Horner's rule with floor truncations: what a cubic gate computes (up to one unit per truncation),
// at scale lo: h = C3; h = h X / 2^f + C2; h = h X / 2^(f + hi - lo) + C1; h = h X / 2^f + C0.
i64 cubic_horner(const std::array<i64, 4>& c, int f, int lo, int hi, i64 X) {
  __int128 h = c[3];
  for (int j = 2; j >= 0; --j) {
    const int shift = j == 1 ? f + hi - lo : f;
    h = ((h * X) >> shift) + c[static_cast<size_t>(j)];  // an arithmetic shift floors
  }
  return static_cast<i64>(h);
}

RingPiece ring_piece(const SplinePiece& p, int S, int f, const std::string& name) {
  RingPiece r;
  r.O = round_checked(std::ldexp(static_cast<long double>(p.o), f), name + " centre");
  if (std::ldexp(static_cast<long double>(p.o), f) != static_cast<long double>(r.O))
    throw std::invalid_argument("spline " + name + ": a piece centre is not a multiple of 2^-" + std::to_string(f));
  r.B0 = round_checked(std::ldexp(static_cast<long double>(p.b[0]), S), name);
  r.B1 = round_checked(std::ldexp(static_cast<long double>(p.b[1]), S - f), name);
  r.B2 = round_checked(std::ldexp(static_cast<long double>(p.b[2]), S - 2 * f), name);
  return r;
}

// The piece's ring value for input X, as a real number (exactly what the gate computes, before
// the final truncation, as long as the true value is below 2^62).
double piece_value(const RingPiece& r, int S, i64 X) {
  const long double u = static_cast<long double>(X - r.O);
  const long double v = static_cast<long double>(r.B2) * u * u + static_cast<long double>(r.B1) * u + static_cast<long double>(r.B0);
  return static_cast<double>(std::ldexp(v, -S));
}

// A cubic table's two scales (spline.h): the largest at which every Horner product h X stays below
// 2^61, with h and x sampled on each piece's interval (one comparison step left of it, where the gate
// may already use it; the tails out to in_bound). C2, C3 and the first two products see the pieces'
// small curvature terms; C1, C0 and the last two see the tails' x, up to in_bound.
struct CubicScales {
  int lo = 0, hi = 0;
};

int log2_ceil(long double v) { return v > 1 ? static_cast<int>(std::ceil(std::log2(static_cast<double>(v)))) : 0; }

CubicScales cubic_scales(const SplineTable& t, double out_bound) {
  const double step = std::ldexp(1.0, t.cmp_shift - t.in_frac);
  long double most_hi = 1, most_lo = std::max(1.0, out_bound);
  const size_t m = t.pieces.size();
  for (size_t i = 0; i < m; ++i) {
    const SplinePiece& p = t.pieces[i];
    const double a = i == 0 ? -t.in_bound : t.knots[i - 1] - step, b = i + 1 == m ? std::max(a, t.in_max) : t.knots[i];
    const std::array<long double, 4> c = monomials(p);
    for (int k = 0; k <= 256; ++k) {
      // Horner's intermediates in x: h2 = C3 x + C2, h1 = h2 x + C1, the value h1 x + C0.
      const long double x = a + (b - a) * k / 256, h2 = c[3] * x + c[2], h1 = h2 * x + c[1];
      most_hi = std::max({most_hi, std::fabs(c[3] * x), std::fabs(h2 * x)});
      most_lo = std::max({most_lo, std::fabs(h1 * x), std::fabs(h1 * x + c[0])});
    }
  }
  CubicScales s;
  s.lo = std::min(scale_for(out_bound), 61 - t.in_frac - log2_ceil(most_lo));
  s.hi = std::max(s.lo, std::min(52, 61 - t.in_frac - log2_ceil(most_hi)));
  return s;
}

// The scales a fit judges its cubic pieces at, before the pieces exist: the tails' x up to in_bound
// bounds lo; hi at least as low as the pieces will allow for SiLU/GeLU-like functions. compile_spline
// sets the final ones and fit_spline judges the pieces again if those are lower.
CubicScales cubic_fit_scales(const SplineFit& fit) {
  CubicScales s;
  s.lo = std::min(scale_for(fit.out_bound), 61 - fit.in_frac - log2_ceil(std::max({fit.in_bound, std::fabs(fit.lo), std::fabs(fit.hi)})) - 1);
  s.hi = std::max(s.lo, 38);
  return s;
}

double local_value(const SplinePiece& p, double t) { return ((p.b[3] * t + p.b[2]) * t + p.b[1]) * t + p.b[0]; }

double grid_floor(double x, int f) { return std::ldexp(std::floor(std::ldexp(x, f)), -f); }
double grid_round(double x, int f) { return std::ldexp(std::nearbyint(std::ldexp(x, f)), -f); }

// Interpolation at degree + 1 Chebyshev nodes of [a, b] in the local variable u = x - o, error centred.
SplinePiece fit_piece(const SplineFit& fit, double a, double b) {
  SplinePiece p;
  p.o = grid_round(0.5 * (a + b), fit.in_frac);
  const int n = fit.degree + 1;
  double u[4], d[4];
  for (int k = 0; k < n; ++k) {
    const double x = 0.5 * (a + b) + 0.5 * (b - a) * std::cos((2 * k + 1) * M_PI / (2 * n));
    u[k] = x - p.o;
    d[k] = fit.f(x);
  }
  // Newton's divided differences d[k] = f[u0..uk], then the Newton form expanded into monomials in u.
  for (int j = 1; j < n; ++j)
    for (int k = n - 1; k >= j; --k) d[k] = (d[k] - d[k - 1]) / (u[k] - u[k - j]);
  std::array<double, 4> c{};  // running product (u - u0)...(u - u_{k-1}) as monomials
  std::array<double, 4> basis{1, 0, 0, 0};
  for (int k = 0; k < n; ++k) {
    for (int i = 0; i < n; ++i) c[static_cast<size_t>(i)] += d[k] * basis[static_cast<size_t>(i)];
    for (int i = n - 1; i >= 1; --i) basis[static_cast<size_t>(i)] = basis[static_cast<size_t>(i - 1)] - u[k] * basis[static_cast<size_t>(i)];
    basis[0] = -u[k] * basis[0];
  }
  p.b = c;
  if (!fit.relative) {  // centre the error: max and min deviations become equal and opposite
    double emax = -1e300, emin = 1e300;
    for (int k = 0; k <= 64; ++k) {
      const double x = a + (b - a) * k / 64, t = x - p.o;
      const double e = local_value(p, t) - fit.f(x);
      emax = std::max(emax, e);
      emin = std::min(emin, e);
    }
    p.b[0] -= 0.5 * (emax + emin);
  }
  return p;
}

// Max error of piece p on the grid points of [a, b), with the ring's rounding, sampled at 257
// points (a piece's error curve is a smooth cubic-like wave: dense samples find its peaks).
constexpr int kSamples = 256;
double piece_error(const SplineFit& fit, const SplinePiece& p, double a, double b, int S, CubicScales cs = {}) {
  const bool cubic = fit.degree == 3;
  const RingPiece r = cubic ? RingPiece{} : ring_piece(p, S, fit.in_frac, fit.name);
  const std::array<i64, 4> c = cubic ? cubic_ring_coefs(p, cs.lo, cs.hi, fit.name) : std::array<i64, 4>{};
  const double ulp = std::ldexp(1.0, -fit.in_frac);
  double err = 0;
  for (int k = 0; k <= kSamples; ++k) {
    double x = grid_floor(a + (b - a) * k / kSamples, fit.in_frac);
    if (k == kSamples) x = b - ulp;
    if (x < a) x = a;
    const double fx = fit.f(x);
    const i64 X = static_cast<i64>(std::llround(std::ldexp(x, fit.in_frac)));
    const double v = cubic ? std::ldexp(static_cast<double>(cubic_horner(c, fit.in_frac, cs.lo, cs.hi, X)), -cs.lo) : piece_value(r, S, X);
    double e = std::fabs(v - fx);
    if (fit.relative) e /= std::fabs(fx);
    err = std::max(err, e);
  }
  return err;
}

}  // namespace

void check_spline(const SplineTable& t) {
  const std::string n = "spline " + t.name + ": ";
  if (t.pieces.empty() || t.knots.size() + 1 != t.pieces.size()) throw std::invalid_argument(n + "needs m pieces and m-1 knots");
  if (t.knot_ring.size() != t.knots.size() || t.coef.size() != t.pieces.size())
    throw std::invalid_argument(n + "not compiled (call compile_spline)");
  for (size_t i = 1; i < t.knots.size(); ++i)
    if (!(t.knots[i - 1] < t.knots[i])) throw std::invalid_argument(n + "knots must ascend");
  if (t.degree < 1 || t.degree > kMaxSplineDegree) throw std::invalid_argument(n + "degree must be 1, 2 or 3");
  if (t.in_frac < 0 || t.in_frac > 40 || t.out_frac < 0 || t.scale < t.out_frac || t.scale > 62)
    throw std::invalid_argument(n + "fractional bits out of range");
  if (t.cmp_bits < 3 || t.cmp_bits > 64) throw std::invalid_argument(n + "comparison width out of range");
  if (t.cmp_shift < 0 || t.cmp_shift > t.in_frac) throw std::invalid_argument(n + "comparison shift out of range");
}

void compile_spline(SplineTable& t, double out_bound) {
  const std::string n = "spline " + t.name + ": ";
  if (t.pieces.empty() || t.knots.size() + 1 != t.pieces.size()) throw std::invalid_argument(n + "needs m pieces and m-1 knots");
  if (!(out_bound > 0) || !(t.in_bound > 0)) throw std::invalid_argument(n + "bounds must be positive");
  if (!(t.in_max > -t.in_bound && t.in_max <= t.in_bound)) t.in_max = t.in_bound;  // unset (NaN) or beyond: the bound
  const int f = t.in_frac;
  t.degree = 1;
  for (const auto& p : t.pieces) {
    if (p.b[2] != 0) t.degree = std::max(t.degree, 2);
    if (p.b[3] != 0) t.degree = 3;
  }
  const CubicScales cs = t.degree == 3 ? cubic_scales(t, out_bound) : CubicScales{};
  const int S = t.degree == 3 ? cs.lo : scale_for(out_bound);
  if (t.degree == 3 ? S - f < 8 : S - t.degree * f < 4)
    throw std::invalid_argument(n + "output bound " + std::to_string(out_bound) + " leaves too little precision for degree " + std::to_string(t.degree));
  if (S < t.out_frac) throw std::invalid_argument(n + "more output bits than the ring holds");
  t.scale = S;
  t.hi_scale = t.degree == 3 ? cs.hi : S;
  if (t.cmp_shift < 0 || t.cmp_shift > f) throw std::invalid_argument(n + "comparison shift must be in [0, in_frac]");
  const int g = t.cmp_shift;
  t.knot_ring.clear();
  double kmax = 0;
  for (double k : t.knots) {
    const long double K = std::ldexp(static_cast<long double>(k), f - g);
    if (K != std::nearbyint(K)) throw std::invalid_argument(n + "a knot is not a multiple of 2^-" + std::to_string(f - g));
    t.knot_ring.push_back(static_cast<u64>(static_cast<i64>(K)));
    kmax = std::max(kmax, std::fabs(k));
  }
  t.coef.clear();
  for (const auto& p : t.pieces) {
    if (t.degree == 3) {
      const std::array<i64, 4> c = cubic_ring_coefs(p, cs.lo, cs.hi, t.name);
      t.coef.push_back({static_cast<u64>(c[0]), static_cast<u64>(c[1]), static_cast<u64>(c[2]), static_cast<u64>(c[3])});
      continue;
    }
    const RingPiece r = ring_piece(p, S, f, t.name);
    const u64 O = static_cast<u64>(r.O), B0 = static_cast<u64>(r.B0), B1 = static_cast<u64>(r.B1), B2 = static_cast<u64>(r.B2);
    t.coef.push_back({B0 - B1 * O + B2 * O * O, B1 - 2 * B2 * O, B2, 0});
  }
  const double reach = t.in_bound + kmax + std::ldexp(1.0, g - f);
  const int e = reach > 1 ? static_cast<int>(std::ceil(std::log2(reach))) : 0;
  t.cmp_bits = std::clamp(f - g + e + 2, 3, 64);
}

double spline_eval_ring(const SplineTable& t, double x, int carry) {
  const i64 X = static_cast<i64>(std::llround(std::ldexp(x, t.in_frac)));
  const i64 Xc = (X >> t.cmp_shift) + carry;  // what the comparisons see
  size_t i = 0;
  while (i < t.knot_ring.size() && static_cast<i64>(t.knot_ring[i]) <= Xc) ++i;
  if (t.degree == 3) {
    std::array<i64, 4> c;
    for (size_t j = 0; j < 4; ++j) c[j] = static_cast<i64>(t.coef[i][j]);
    return std::ldexp(static_cast<double>(cubic_horner(c, t.in_frac, t.scale, t.hi_scale, X)), -t.scale);
  }
  const u64 ux = static_cast<u64>(X);
  const u64 v = t.coef[i][0] + t.coef[i][1] * ux + t.coef[i][2] * ux * ux;
  return std::ldexp(static_cast<double>(static_cast<i64>(v)), -t.scale);
}

SplineTable fit_spline(const SplineFit& fit) {
  const std::string n = "spline " + fit.name + ": ";
  if (!(fit.lo < fit.hi)) throw std::invalid_argument(n + "fit range must have lo < hi");
  if (!(fit.tol > 0)) throw std::invalid_argument(n + "tolerance must be positive");
  SplineTable t;
  t.name = fit.name;
  t.in_frac = fit.in_frac;
  t.out_frac = fit.out_frac;
  t.in_bound = fit.in_bound;
  t.in_max = fit.in_max;
  t.cmp_shift = fit.cmp_shift >= 0 ? fit.cmp_shift : std::max(0, fit.in_frac - 6);
  if (t.cmp_shift > fit.in_frac) throw std::invalid_argument(n + "comparison shift must be in [0, in_frac]");
  if (fit.degree != 2 && fit.degree != 3) throw std::invalid_argument(n + "fitted pieces must be of degree 2 or 3");
  const int S = scale_for(fit.out_bound);
  const CubicScales cs = fit.degree == 3 ? cubic_fit_scales(fit) : CubicScales{};
  const int kg = fit.in_frac - t.cmp_shift;  // knots live on the grid 2^-kg
  const double ulp = std::ldexp(1.0, -kg);
  const double ext = t.cmp_shift > 0 ? ulp : 0;  // pieces must also hold this far left of their interval
  const double lo = grid_round(fit.lo, kg), hi = grid_round(fit.hi, kg);
  t.pieces.push_back(fit.left_tail);
  t.knots.push_back(lo);
  double a = lo;
  while (a < hi) {
    SplinePiece p = fit_piece(fit, a - ext, hi);
    double b = hi;
    if (piece_error(fit, p, a - ext, hi, S, cs) > fit.tol) {
      double good = a, bad = hi;
      SplinePiece good_p;
      for (int it = 0; it < 40 && bad - good > ulp; ++it) {
        const double mid = std::max(grid_floor(0.5 * (good + bad), kg), good + ulp);
        SplinePiece q = fit_piece(fit, a - ext, mid);
        if (piece_error(fit, q, a - ext, mid, S, cs) <= fit.tol) {
          good = mid;
          good_p = q;
        } else {
          bad = mid;
        }
      }
      if (good <= a) throw std::invalid_argument(n + "tolerance " + std::to_string(fit.tol) + " unreachable at x = " + std::to_string(a));
      b = good;
      p = good_p;
    }
    t.max_error = std::max(t.max_error, piece_error(fit, p, a - ext, b, S, cs));
    t.pieces.push_back(p);
    if (b < hi) t.knots.push_back(b);
    a = b;
    if (static_cast<int>(t.pieces.size()) > fit.max_pieces)
      throw std::invalid_argument(n + "more than " + std::to_string(fit.max_pieces) + " pieces needed for tolerance " + std::to_string(fit.tol));
  }
  t.knots.push_back(hi);
  t.pieces.push_back(fit.right_tail);
  // Just below hi the gate may already use the right tail (carry): it must hold there too.
  if (ext > 0) {
    const double e = piece_error(fit, fit.right_tail, hi - ext, hi, S, cs);
    if (e > fit.tol)
      throw std::invalid_argument(n + "the right tail is off by " + std::to_string(e) + " within 2^-" + std::to_string(kg) +
                                  " below hi (raise hi or set cmp_shift = 0)");
  }
  compile_spline(t, fit.out_bound);
  if (t.degree == 3 && (t.scale < cs.lo || t.hi_scale < cs.hi)) {  // rounded coarser than fitted: judge the pieces again
    const CubicScales final_scales{t.scale, t.hi_scale};
    for (size_t i = 1; i + 1 < t.pieces.size(); ++i) {
      const double e = piece_error(fit, t.pieces[i], t.knots[i - 1] - ext, t.knots[i], S, final_scales);
      if (e > fit.tol) throw std::invalid_argument(n + "cubic pieces exceed the tolerance at scales 2^" + std::to_string(t.scale) + ", 2^" + std::to_string(t.hi_scale));
      t.max_error = std::max(t.max_error, e);
    }
  }
  return t;
}

}  // namespace marill
