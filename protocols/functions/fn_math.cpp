// exp, reciprocal, rsqrt (functions.h).
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "protocols/functions/fn_internal.h"
#include "protocols/functions/functions.h"

namespace marill {

namespace fn {

namespace {
// Quadratic pieces (2pc-dealer's FSS gate: 16.75 B and 3 rounds whatever the number of pieces, one
// comparison per knot). At 16 output bits or fewer, e^x itself by one spline on [-clip, 0] (0 below,
// so clipping is free) to 1/16 of the output's unit, its own truncation giving out_bits: 72 pieces
// at 16 bits. At the softmax's 28 bits a row sums 2048 values, so they need a small relative
// error: e^x itself kept the softmax at 1 ulp with 163 pieces (a relative 3e-6; 121 pieces at 8e-6
// let it reach 1.1 ulp), which cost a GPT-2 block 18% more simulated time (the piece index's DPF on
// 2^8 outputs) for 7% fewer bytes. There e^x = (e^(x/4))^4, e^(x/4) by 88 pieces to a relative
// 1.5e-6, then two squarings at 28 bits, each on its truncation's opening.
// Cubic pieces (2pc): the same (e^(x/4))^4, fewer knots, whose comparisons are what 2pc pays for most.
Shared exp_neg_spline(Backend& be, const Shared& x, double clip, double bound, int out_bits, int degree) {
  constexpr int F = 28;
  const int fb = be.frac_bits();
  const bool direct = degree == 2 && out_bits <= 16;
  const std::string key = std::string(direct ? "exp " : "exp/4 ") + std::to_string(fb) + " " + std::to_string(clip) + " " +
                          std::to_string(bound) + " " + std::to_string(degree) + (direct ? " " + std::to_string(out_bits) : "");
  const SplineTable& t = cached_spline(key, [&] {
    SplineFit f;
    f.name = direct ? "exp(x)" : "exp(x/4)";
    const double s = direct ? 1.0 : 0.25;
    f.f = [s](double v) { return std::exp(v * s); };
    f.lo = -clip;
    f.hi = 0;
    f.degree = degree;
    // x = 0 only (x <= 0); just below 0 (within 2^-6) the gate may pick this piece too: Taylor,
    // error < 7e-7 (direct), 1e-8 (x/4).
    f.right_tail.b = {1, s, s * s / 2};
    f.in_max = 0;  // a cubic sizes its scales by the tail's reach
    f.relative = !direct;
    f.tol = direct ? std::ldexp(1.0, -(out_bits + 4)) : 1.5e-6;
    f.in_frac = fb;
    f.out_frac = direct ? out_bits : F;
    f.in_bound = bound;
    f.out_bound = 1;
    return fit_spline(f);
  });
  if (direct) return be.spline(x, t);
  if (degree == 2) {
    SplineTable raw = t;  // the spline at its own scale S, truncated by the first squaring
    raw.out_frac = raw.scale;
    Shared z2 = be.trunc_square(be.spline(x, raw), t.scale - F);  // (e^(x/4))^2 at 2F
    return be.trunc(be.trunc_square(z2, F), 2 * F - out_bits);  // ((e^(x/4))^2)^2
  }
  Shared z = be.spline(x, t);
  z = be.trunc(be.square(z), F);
  return be.trunc(be.square(z), 2 * F - out_bits);
}
}  // namespace

Shared exp_neg_core(Backend& be, const Shared& x, double clip, double bound, int out_bits) {
  constexpr double kClipResolution = 0.125;
  constexpr int kSquarings = 4;  // e^x = (e^(x/16))^16
  constexpr int F = 28;          // working precision: z in (0, 1], z^2 at 56 bits
  if (!(clip > 0 && clip <= 20)) throw std::invalid_argument("exp_neg: clip must be in (0, 20]");
  if (out_bits > F) throw std::invalid_argument("exp_neg: at most 28 output bits");
  if (be.policy().exp == ExpMethod::spline) return exp_neg_spline(be, x, clip, bound, out_bits, 2);
  if (be.policy().exp == ExpMethod::cubic) return exp_neg_spline(be, x, clip, bound, out_bits, 3);
  const int fb = be.frac_bits();
  // Clipped elements: [x < -clip] = [x + clip < 0], judged to 1/8 (kClipResolution): either way
  // within 1/8 of -clip (e^-19.875 against e^-20 zeroed; the kernel holds down to -20.125).
  Shared below = less_than_zero(be, add_const(be, x, clip, fb), fb, bound + clip, kClipResolution);
  // u = x / 16 is x's ring value read at fb + 4 bits; move it to F bits exactly.
  Shared u = be.scale(x, u64{1} << (F - fb - kSquarings));
  // Taylor degree 7 on u in [-1.25, 0] (-1.258 with the clip's resolution, inside the sizing's one-bit
  // margin), in two blocks: u^2..u^4 and u^4 q_1(u), 4 multiplications and a truncation. Degree 7
  // (not 4 with one more squaring) because Taylor's error has one sign: a softmax row sums 2047 of
  // them, and this keeps that sum's relative error below 1.4e-6.
  const FixedShared p = poly_eval_blocked_raw(be, u, {1.0, 1.0, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040}, F, 1.25);
  // Clipped elements hold garbage (their u left the kernel's range): the kept mask 1 - [x < -clip]
  // multiplies the kernel's value in the product that brings it to F bits, where a truncation was
  // due anyway, so 0 * garbage = 0 costs no product of its own (0 squares to 0, to the truncations'
  // unit).
  Shared z = mul_tr(be, one_minus(be, below), p.v, p.bits - F);
  for (int i = 0; i < kSquarings; ++i) z = mul_tr(be, z, z, i + 1 < kSquarings ? F : 2 * F - out_bits);
  return z;
}

}  // namespace fn

Shared exp_neg(Backend& be, const Shared& x, double clip, double bound) {
  OpScope scope(be.ledger(), "exp");
  return fn::exp_neg_core(be, x, clip, bound, be.frac_bits());
}

namespace {
// o exact (o = 2^-(j+1) needs j+1 bits) and y o below 2^61.
int out_bits_for(double lo, double hi, bool sq, int y_bits) {
  double top = sq ? 1 / std::sqrt(lo) : 1 / lo;  // largest result
  int exact = static_cast<int>(std::floor(sq ? 0.5 * std::log2(hi) : std::log2(hi))) + 1;
  int room = 60 - y_bits - static_cast<int>(std::ceil(std::log2(std::max(2 * top, 1.0))));
  int o_bits = std::max(exact, 16);  // 16: y o truncates by frac_bits (fused in 3pc) when y_bits is 16
  if (o_bits > room) throw std::invalid_argument("reciprocal/rsqrt: range too wide");
  return o_bits;
}

Shared inv_pow_public(Backend& be, const Shared& x, double lo, double hi, bool sq) {
  const int fb = be.frac_bits(), y_bits = 24;
  int o_bits = out_bits_for(lo, hi, sq, y_bits);
  fn::InvPow r = fn::inv_pow(be, x, fb, lo, hi, sq, 1.0, o_bits, y_bits);
  return fn::mul_tr(be, r.y, r.o, y_bits + o_bits - fb);
}
}  // namespace

Shared reciprocal(Backend& be, const Shared& x, double lo, double hi) {
  OpScope scope(be.ledger(), "reciprocal");
  return inv_pow_public(be, x, lo, hi, false);
}

Shared rsqrt(Backend& be, const Shared& x, double lo, double hi) {
  OpScope scope(be.ledger(), "rsqrt");
  return inv_pow_public(be, x, lo, hi, true);
}

}  // namespace marill
