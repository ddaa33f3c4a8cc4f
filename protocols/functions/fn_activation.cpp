// Activations (functions.h): ReLU, Quad, GeLU, SiLU.
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "protocols/functions/fn_internal.h"
#include "protocols/functions/functions.h"

namespace marill {

namespace {

// The fit of an activation's even correction h(a) on [0, T): P in t = (a - C) / 2^s (coefficients
// low to high), |t| <= tmax; evaluated at F fractional bits in the given Horner form
// (fn::poly_eval_blocked_raw).
struct EvenFit {
  double T, C;
  int s;
  const std::vector<double>& coefs;
  double tmax;
  int F;
  fn::Horner horner;
};

// f(x) = ReLU(x) - [|x| < T] P((|x| - C) / 2^s): the even correction h(|x|) of a ReLU-like
// activation.
Shared relu_minus_even_poly(Backend& be, const Shared& x, double bound, const EvenFit& fit) {
  const double T = fit.T, C = fit.C;
  const int s = fit.s;
  // A low F is chosen for 16 fractional bits: with fewer than 3 bits above frac_bits, the fit runs
  // at 28 bits with truncated blocks.
  const bool low_F = be.frac_bits() + 3 <= fit.F;
  const int F = low_F ? fit.F : 28;
  const fn::Horner horner = low_F ? fit.horner : fn::Horner::truncated;
  // The comparisons need not resolve the last bits (Backend::ltz's `low`). The sign, judged to
  // 2^-10: f(x) = x - h(x) for every x (h(a) = a (1 - Phi(a)), a sigmoid(-a) extend to a < 0), so
  // where |x| < 2^-10 is misjudged relu - h(a) with a = -|x| is still f(x), a at most 2^-10 below
  // P's range. [|x| < T], judged to 2^-6 against T - 2^-5: never inside beyond T (P's range), and
  // where h is dropped early (|x| in [T - 3 2^-6, T)) it is nearly as small as at T (GeLU 1.8e-6,
  // SiLU 1.2e-5; the result is then relu(x), exact).
  constexpr double kResolution = 1.0 / 1024, kInsideResolution = 1.0 / 64;
  const int fb = be.frac_bits();
  Shared sx = fn::negative_part(be, x, fb, bound, kResolution);  // x [x < 0]
  Shared relu = be.sub(x, sx);
  Shared a = be.sub(x, be.scale(sx, 2));  // |x| (or -|x| where |x| < 2^-10)
  Shared inside = fn::less_than_zero(be, fn::add_const(be, a, -(T - 2 * kInsideResolution), fb), fb, bound + T, kInsideResolution);
  // t = (a - C) / 2^s: a's ring value read at fb + s bits, moved to F bits exactly.
  Shared t = fn::add_const(be, be.scale(a, u64{1} << (F - fb - s)), -C / (1 << s), F);
  // h at its raw scale, truncated within the product by the 0/1 `inside` (one fused product where a
  // truncation and a product were two). Outside [0, T) the powers overflow; inside = 0 there, and
  // 0 * garbage is exactly 0.
  const fn::FixedShared h = fn::poly_eval_blocked_raw(be, t, fit.coefs, F, fit.tmax, horner);
  return be.sub(relu, be.mul_trunc_bits(inside, h.v, h.bits - fb));
}

// h(a) = a (1 - Phi(a)) on [0, 5), t = (a - 2.5)/2: Remez minimax, degree 12 (error 6.4e-6).
const std::vector<double> kGeluCoefs = {
    0.015526397284139138,  -0.075158146483903301, 0.14886264426964294,   -0.13266101433722599,
    -0.0067899159239046209, 0.14299078173494179,  -0.12955421460107,     0.0035351400319936117,
    0.059024713689775736,  -0.020086340898566965, -0.010556114909724034, 0.0042505713308584794,
    0.00062948833909482317};

// h(a) = a sigmoid(-a) on [0, 14), t = (a - 7)/8: Remez minimax, degree 16 (error 1.1e-5).
const std::vector<double> kSiluCoefs = {
    0.0063731435092216175, -0.043875277873433705, 0.1460883364405253,  -0.2959095738065658,
    0.42807277217724454,   -0.69127961617582512,  0.61889736229188275, 1.9884465183420812,
    -3.0792530033323362,   -6.6378916906518146,   7.9560742655305425,  18.410552430690466,
    -20.828979670304221,   -18.468794565743529,   22.636237245678263,  6.0997389644958098,
    -8.2776084623038919};

// The activation itself as one spline: 0 below -T, x above T, pieces of `degree` between (tolerance
// 1.2e-5 per piece, judged with the ring's rounding). Quadratic: 2pc-dealer's FSS gate; cubic (2pc):
// well under half the knots (SiLU 20 against 56), whose comparisons are what 2pc pays for most.
const SplineTable& activation_table(int fb, double bound, const char* name, double T, double (*f)(double), int degree) {
  const std::string key = std::string(name) + " " + std::to_string(fb) + " " + std::to_string(bound) + " " + std::to_string(degree);
  return fn::cached_spline(key, [&] {
    SplineFit fit;
    fit.degree = degree;
    fit.name = name;
    fit.f = f;
    fit.lo = -T;
    fit.hi = T;
    fit.right_tail.b = {0, 1, 0};
    fit.tol = 1.2e-5;
    fit.in_frac = fb;
    fit.out_frac = fb;
    fit.in_bound = bound;
    fit.out_bound = std::max(bound, T);
    return fit_spline(fit);
  });
}

double silu_exact(double v) { return v / (1 + std::exp(-v)); }
double gelu_exact(double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); }

}  // namespace

const SplineTable& silu_spline_table(int frac_bits, double bound, int degree) {
  return activation_table(frac_bits, bound, "silu", 14.0, silu_exact, degree);
}
const SplineTable& gelu_spline_table(int frac_bits, double bound, int degree) {
  return activation_table(frac_bits, bound, "gelu", 5.0, gelu_exact, degree);
}

Shared relu(Backend& be, const Shared& x, double bound) {
  OpScope scope(be.ledger(), "relu");
  return be.sub(x, fn::negative_part(be, x, be.frac_bits(), bound));
}

Shared quad(Backend& be, const Shared& x) {
  OpScope scope(be.ledger(), "quad");
  const int fb = be.frac_bits();
  Shared y = fn::add_const(be, x, 1.0, fb);
  return fn::add_const(be, fn::mul_tr(be, y, y, fb + 3), 0.375, fb);  // (x+1)^2 / 8 + 3/8
}

Shared gelu(Backend& be, const Shared& x, double bound) {
  OpScope scope(be.ledger(), "gelu");
  switch (be.policy().gelu) {
    case ActMethod::spline: return be.spline(x, gelu_spline_table(be.frac_bits(), bound));
    case ActMethod::cubic: return be.spline(x, gelu_spline_table(be.frac_bits(), bound, 3));
    // F = 19: the blocks need no truncation (23 coefficient bits past the first), at the error of
    // F = 28 with truncated blocks (2.1e-5 on [-8, 8]).
    case ActMethod::poly: return relu_minus_even_poly(be, x, bound, {5.0, 2.5, 1, kGeluCoefs, 1.25, 19, fn::Horner::untruncated});
    case ActMethod::relu: return relu(be, x, bound);
  }
  throw std::logic_error("gelu method");
}

Shared silu(Backend& be, const Shared& x, double bound) {
  OpScope scope(be.ledger(), "silu");
  switch (be.policy().silu) {
    case ActMethod::spline: return be.spline(x, silu_spline_table(be.frac_bits(), bound));
    case ActMethod::cubic: return be.spline(x, silu_spline_table(be.frac_bits(), bound, 3));
    // SiLU's own coefficients reach 22: in t^4 blocks F = 22 would leave 12-13 coefficient bits past
    // the first; in T_4's remainders (0.32 at most) 19, and the blocks need no truncation, at the
    // error of F = 28 with truncated blocks.
    case ActMethod::poly: return relu_minus_even_poly(be, x, bound, {14.0, 7.0, 3, kSiluCoefs, 0.875, 22, fn::Horner::chebyshev});
    case ActMethod::relu: return relu(be, x, bound);
  }
  throw std::logic_error("silu method");
}

Shared activation(Backend& be, const Shared& x, Activation exact, double bound) {
  switch (be.policy().act) {
    case ActApprox::exact: return exact == Activation::silu ? silu(be, x, bound) : gelu(be, x, bound);
    case ActApprox::relu: return relu(be, x, bound);
    case ActApprox::quad: return quad(be, x);
  }
  throw std::logic_error("activation approximation");
}

}  // namespace marill
