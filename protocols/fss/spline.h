// Piecewise-quadratic splines in fixed point: the public description of one non-linear function
// that Backend::spline evaluates as one gate (in 2pc-dealer: an FSS spline gate, spline_gate.h).
//
// A spline has m pieces; piece i covers [knot_{i-1}, knot_i) (knot_{-1} = -inf, knot_{m-1} = +inf)
// and is b0 + b1 (x - o) + b2 (x - o)^2 in a *local* variable around its own centre o. The ring
// form is derived from the rounded local coefficients by exact integer algebra, so rounding errors
// scale with (x - o)^2 <= (width/2)^2, not with x^2 (this is what lets a degree-2 piece at |x| = 14
// stay accurate with 16 fractional bits in a 64-bit ring):
//   B2 = round(b2 2^(S-2f)), B1 = round(b1 2^(S-f)), B0 = round(b0 2^S), O = o 2^f (exact),
//   C2 = B2, C1 = B1 - 2 B2 O, C0 = B0 - B1 O + B2 O^2   (mod 2^64)
//   => sum_j Cj X^j = B2 (X-O)^2 + B1 (X-O) + B0 = f(x) 2^S (+ rounding), X = x 2^f.
// The result is then truncated by S - out_frac. S = 60 - ceil(log2 out_bound), so |f| 2^S < 2^61
// and the truncation's 2^62 limit holds.
//
// Comparisons see x only to a grid of 2^cmp_shift ring units: the gate compares
// floor(x^ / 2^g) - floor(r / 2^g) = floor(x / 2^g) + carry (carry in {0, 1}, unknown to all) with the
// knots, which are multiples of 2^g, on cmp_bits - g fewer levels of the comparison tree. So for x in
// [K_i - 2^g, K_i) the gate may use piece i+1 instead of piece i; fit_spline makes every piece accurate
// on its interval extended 2^g units to the left, so either choice is within the tolerance.
//
// Cubic pieces (SplineFit::degree = 3; Backend::spline's generic path, not the FSS gate): a cubic's
// exact monomials in X would leave its x^3 coefficient too few fractional bits, so the gate
// evaluates Horner's rule with a truncation after each product, the Cj being the piece's monomials
// in x (exact in long double) rounded at two scales: C3, C2 at H (hi_scale), C1, C0 at S (scale):
//   h = C3;  h = floor(h X / 2^f) + C2;  h = floor(h X / 2^(f + H - S)) + C1;  h = floor(h X / 2^f) + C0.
// H and S are the largest that keep every product below 2^61 on the pieces' intervals: the tails'
// large x (out to in_bound) bound only S, which rounds C1 and C0, whose errors x does not amplify
// much. Each truncation is off by at most one unit. SiLU on [-14, 14] with in_bound 2^15: S = 30,
// H = 45. A cubic needs well under half the pieces of a quadratic at the same tolerance (at 1.2e-5:
// SiLU 21 against 57, GeLU 18 against 43; exp to a relative 1.5e-6: 23 against 88), for one more product.
//
// fit_spline() places knots greedily (each piece as wide as the tolerance allows, judged on the
// rounded integer coefficients, i.e. on exactly what the gate computes) and fits each piece by
// interpolation at Chebyshev nodes with the error centred (near-minimax).
#pragma once

#include <array>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "protocols/ring/ring.h"

namespace marill {

constexpr int kMaxSplineDegree = 3;

struct SplinePiece {
  double o = 0;                        // centre (a multiple of 2^-in_frac)
  std::array<double, 4> b{0, 0, 0, 0};  // b0 + b1 (x-o) + b2 (x-o)^2 + b3 (x-o)^3
};

struct SplineTable {
  std::string name;  // names the function in errors and docs
  int in_frac = 16, out_frac = 16;
  int scale = 0;     // S: fractional bits of the integer polynomial before the final truncation
  int hi_scale = 0;  // cubic: the scale of C2, C3 and Horner's first two steps (else = scale)
  int cmp_shift = 0;  // g: knots are multiples of 2^g ring units; comparisons drop x's low g bits
  int cmp_bits = 0;   // comparison width: |(X >> g) + 1 - (K >> g)| < 2^(cmp_bits-1) for every x, knot
  int degree = 2;    // 1 when every piece is linear (one opening less online); 3: cubic (Horner form)
  double in_bound = 0;
  // The largest input promised (NaN: in_bound; compile_spline sets it): cubic tables size their
  // scales by the right tail's reach (exp's inputs are never positive).
  double in_max = std::numeric_limits<double>::quiet_NaN();
  double max_error = 0;  // measured by fit_spline on the fitted range (absolute or relative)
  std::vector<double> knots;        // m-1 ascending real values, multiples of 2^-in_frac
  std::vector<SplinePiece> pieces;  // m
  // Ring form: knot_ring[i] = K_i >> g with K_i = knots[i] 2^in_frac; coef[i] = {C0, C1, C2, C3} of
  // piece i (C3 = 0 below degree 3).
  std::vector<u64> knot_ring;
  std::vector<std::array<u64, 4>> coef;

  int num_pieces() const { return static_cast<int>(pieces.size()); }
};

struct SplineFit {
  std::string name;
  std::function<double(double)> f;
  double lo = 0, hi = 0;  // pieces are fitted on [lo, hi); outside, the tails below apply
  SplinePiece left_tail, right_tail;  // on (-inf, lo) and [hi, +inf), centred at o
  double tol = 1e-5;                  // max error per piece (with coefficient rounding)
  bool relative = false;              // tol relative to |f(x)| (f > 0 on [lo, hi))
  int in_frac = 16, out_frac = 16;
  int cmp_shift = -1;    // g (see above); -1: in_frac - 6, a grid of 1/64
  double in_bound = 0;   // promise |x| <= in_bound
  double in_max = std::numeric_limits<double>::quiet_NaN();  // and x <= in_max (NaN: in_bound)
  double out_bound = 0;  // |result| <= out_bound for every promised x
  int max_pieces = 256;
  int degree = 2;        // of the fitted pieces: 2 or 3 (the tails are given)
};

// Fits and compiles. Throws std::invalid_argument on impossible parameters (lo >= hi, tol <= 0,
// too little precision, more than max_pieces pieces needed).
SplineTable fit_spline(const SplineFit& fit);

// Builds the ring form from knots and local pieces (fit_spline calls it; tests use it directly).
void compile_spline(SplineTable& t, double out_bound);

// What the gate computes, in double: sum_j Cj X^j / 2^S for the piece x falls in (no final
// truncation), with X = round(x 2^in_frac). `carry` = 1 gives the value the gate computes when the
// comparison sees X + 2^g (the other possible piece just below a knot).
double spline_eval_ring(const SplineTable& t, double x, int carry = 0);

// Throws std::invalid_argument naming the problem unless t is well formed.
void check_spline(const SplineTable& t);

}  // namespace marill
