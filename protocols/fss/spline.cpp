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

double grid_floor(double x, int f) { return std::ldexp(std::floor(std::ldexp(x, f)), -f); }
double grid_round(double x, int f) { return std::ldexp(std::nearbyint(std::ldexp(x, f)), -f); }

// Interpolation at 3 Chebyshev nodes of [a, b] in the local variable u = x - o, error centred.
SplinePiece fit_piece(const SplineFit& fit, double a, double b) {
  SplinePiece p;
  p.o = grid_round(0.5 * (a + b), fit.in_frac);
  double u[3], y[3];
  for (int k = 0; k < 3; ++k) {
    const double x = 0.5 * (a + b) + 0.5 * (b - a) * std::cos((2 * k + 1) * M_PI / 6);
    u[k] = x - p.o;
    y[k] = fit.f(x);
  }
  // Newton form y0 + d1 (u-u0) + d2 (u-u0)(u-u1), then monomials in u.
  const double d01 = (y[1] - y[0]) / (u[1] - u[0]), d12 = (y[2] - y[1]) / (u[2] - u[1]);
  const double d2 = (d12 - d01) / (u[2] - u[0]);
  p.b[2] = d2;
  p.b[1] = d01 - d2 * (u[0] + u[1]);
  p.b[0] = y[0] - d01 * u[0] + d2 * u[0] * u[1];
  if (!fit.relative) {  // centre the error: max and min deviations become equal and opposite
    double emax = -1e300, emin = 1e300;
    for (int k = 0; k <= 64; ++k) {
      const double x = a + (b - a) * k / 64, t = x - p.o;
      const double e = p.b[0] + p.b[1] * t + p.b[2] * t * t - fit.f(x);
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
double piece_error(const SplineFit& fit, const SplinePiece& p, double a, double b, int S) {
  const RingPiece r = ring_piece(p, S, fit.in_frac, fit.name);
  const double ulp = std::ldexp(1.0, -fit.in_frac);
  double err = 0;
  for (int k = 0; k <= kSamples; ++k) {
    double x = grid_floor(a + (b - a) * k / kSamples, fit.in_frac);
    if (k == kSamples) x = b - ulp;
    if (x < a) x = a;
    const double fx = fit.f(x);
    const double v = piece_value(r, S, static_cast<i64>(std::llround(std::ldexp(x, fit.in_frac))));
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
  if (t.degree != 1 && t.degree != 2) throw std::invalid_argument(n + "degree must be 1 or 2");
  if (t.in_frac < 0 || t.in_frac > 40 || t.out_frac < 0 || t.scale < t.out_frac || t.scale > 62)
    throw std::invalid_argument(n + "fractional bits out of range");
  if (t.cmp_bits < 3 || t.cmp_bits > 64) throw std::invalid_argument(n + "comparison width out of range");
  if (t.cmp_shift < 0 || t.cmp_shift > t.in_frac) throw std::invalid_argument(n + "comparison shift out of range");
}

void compile_spline(SplineTable& t, double out_bound) {
  const std::string n = "spline " + t.name + ": ";
  if (t.pieces.empty() || t.knots.size() + 1 != t.pieces.size()) throw std::invalid_argument(n + "needs m pieces and m-1 knots");
  if (!(out_bound > 0) || !(t.in_bound > 0)) throw std::invalid_argument(n + "bounds must be positive");
  const int f = t.in_frac, S = scale_for(out_bound);
  t.degree = 1;
  for (const auto& p : t.pieces)
    if (p.b[2] != 0) t.degree = 2;
  if (S - t.degree * f < 4) throw std::invalid_argument(n + "output bound " + std::to_string(out_bound) + " leaves too little precision for degree " + std::to_string(t.degree));
  if (S < t.out_frac) throw std::invalid_argument(n + "more output bits than the ring holds");
  t.scale = S;
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
    const RingPiece r = ring_piece(p, S, f, t.name);
    const u64 O = static_cast<u64>(r.O), B0 = static_cast<u64>(r.B0), B1 = static_cast<u64>(r.B1), B2 = static_cast<u64>(r.B2);
    t.coef.push_back({B0 - B1 * O + B2 * O * O, B1 - 2 * B2 * O, B2});
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
  t.cmp_shift = fit.cmp_shift >= 0 ? fit.cmp_shift : std::max(0, fit.in_frac - 6);
  if (t.cmp_shift > fit.in_frac) throw std::invalid_argument(n + "comparison shift must be in [0, in_frac]");
  const int S = scale_for(fit.out_bound);
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
    if (piece_error(fit, p, a - ext, hi, S) > fit.tol) {
      double good = a, bad = hi;
      SplinePiece good_p;
      for (int it = 0; it < 40 && bad - good > ulp; ++it) {
        const double mid = std::max(grid_floor(0.5 * (good + bad), kg), good + ulp);
        SplinePiece q = fit_piece(fit, a - ext, mid);
        if (piece_error(fit, q, a - ext, mid, S) <= fit.tol) {
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
    t.max_error = std::max(t.max_error, piece_error(fit, p, a - ext, b, S));
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
    const double e = piece_error(fit, fit.right_tail, hi - ext, hi, S);
    if (e > fit.tol)
      throw std::invalid_argument(n + "the right tail is off by " + std::to_string(e) + " within 2^-" + std::to_string(kg) +
                                  " below hi (raise hi or set cmp_shift = 0)");
  }
  compile_spline(t, fit.out_bound);
  return t;
}

}  // namespace marill
