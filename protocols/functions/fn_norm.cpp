// RMSNorm and LayerNorm over the last axis (functions.h).
#include <cmath>
#include <stdexcept>

#include "protocols/functions/fn_internal.h"
#include "protocols/functions/functions.h"

namespace marill {

namespace {

constexpr int kSumBits = 20;  // sum of squares kept at 20 bits: rsqrt's input error stays < 2^-20

// x_hat = D * s_o / sqrt(ss + eps C) for rows D (R, C) at fb bits, ss (R,1) at kSumBits.
// RMSNorm: D = x, ss = sum x^2, s_o = sqrt(C). LayerNorm: D = C x - sum x = C (x - mean),
// ss = sum (x - mean)^2, s_o = 1/sqrt(C) (so no division by C is ever rounded into the output).
Shared normalize(Backend& be, const Shared& D, const Shared& ss, i64 C, double s_o, const NormOptions& opt) {
  const int fb = be.frac_bits();
  const double lo = opt.eps * C / 2, hi = (opt.var_max + opt.eps) * C;
  Shared w = fn::add_const(be, ss, opt.eps * C, kSumBits);
  Shared r;
  int r_bits;
  {
    OpScope scope(be.ledger(), "rsqrt");
    const int y_bits = 24;
    // y o exact to 2^-61 of its largest value; then cut to r_bits, the most that x_hat = D r allows.
    double o_max = s_o * 2 / std::sqrt(lo);  // >= s_o 2^-(j+1) over the range
    int o_bits = 61 - y_bits - static_cast<int>(std::ceil(std::log2(2 * o_max))) - 1;
    r_bits = 61 - fb - static_cast<int>(std::ceil(std::log2(std::sqrt(static_cast<double>(C)) + 1))) - 1;
    if (r_bits > y_bits + o_bits) r_bits = y_bits + o_bits;
    fn::InvPow ip = fn::inv_pow(be, w, kSumBits, lo, hi, true, s_o, o_bits, y_bits);
    r = fn::rescale(be, be.mul(ip.y, ip.o), y_bits + o_bits, r_bits);
  }
  // |x_hat| <= sqrt(C): D r fits in fb + r_bits + log2 sqrt(C) <= 61 bits.
  return be.mul_cols_trunc(D, r, r_bits);
}

// Sum of squares of each row of v (R, C) at fb bits (Backend::sum_squares), at kSumBits.
Shared row_sumsq(Backend& be, const Shared& v) { return be.trunc(be.sum_squares(v), 2 * be.frac_bits() - kSumBits); }

// xn (R, C) times a shared gain per column g (C), truncated: the columns as rows of xn's transpose
// (local), so a setting that opens a row's value once (Backend::mul_cols, 2pc-dealer) opens each
// gain once rather than once per row.
Shared mul_gain_trunc(Backend& be, const Shared& xn, const Shared& g) {
  auto transpose = [](const RingTensor& t) { return transpose_last2(t); };
  const Shared by_cols = be.mul_cols_trunc(be.map(xn, transpose), fn::reshape(be, g, {g.numel(), 1}), be.frac_bits());
  return be.map(by_cols, transpose);
}

Shared scale_shift(Backend& be, const Shared& xn, const Shared* g, const RingTensor* gp, const Shared* b,
                   const RingTensor* bp) {
  const i64 R = xn.shape()[0];
  Shared out = g ? mul_gain_trunc(be, xn, *g) : be.trunc(be.mul_public(xn, fn::tile_rows(*gp, R)), be.frac_bits());
  if (b) out = be.add(out, fn::tile_rows(be, *b, R));
  if (bp) out = be.add_public(out, fn::tile_rows(*bp, R));
  return out;
}

void check_weight(const Shape& w, i64 C, const char* what) {
  if (w.size() != 1 || w[0] != C) throw std::invalid_argument(std::string(what) + ": want (" + std::to_string(C) + "), got " + shape_str(w));
}

Shared rms_impl(Backend& be, const Shared& x, const Shared* g, const RingTensor* gp, const NormOptions& opt) {
  OpScope scope(be.ledger(), "norm");
  const i64 C = x.shape().back(), R = x.numel() / C;
  if (g || gp) check_weight(g ? g->shape() : gp->shape(), C, "rmsnorm gamma");
  Shared v = fn::reshape(be, x, {R, C});
  Shared xn = normalize(be, v, row_sumsq(be, v), C, std::sqrt(static_cast<double>(C)), opt);
  if (!g && !gp) return fn::reshape(be, xn, x.shape());
  return fn::reshape(be, scale_shift(be, xn, g, gp, nullptr, nullptr), x.shape());
}

Shared ln_impl(Backend& be, const Shared& x, const Shared* g, const RingTensor* gp, const Shared* b, const RingTensor* bp,
               const NormOptions& opt) {
  OpScope scope(be.ledger(), "norm");
  const int fb = be.frac_bits();
  const i64 C = x.shape().back(), R = x.numel() / C;
  const bool affine = g || gp;
  if (affine) {
    check_weight(g ? g->shape() : gp->shape(), C, "layernorm gamma");
    check_weight(b ? b->shape() : bp->shape(), C, "layernorm beta");
  }
  Shared v = fn::reshape(be, x, {R, C});
  Shared sum = fn::sum_last(be, v);  // (R,1)
  // The mean only centres the variance: its rounding error d adds C d^2 to sum (x - mean)^2.
  const int T = 61 - fb - static_cast<int>(std::ceil(std::log2(opt.mean_max))) - 1;
  Shared mean = be.trunc(be.scale(sum, fn::enc(1.0 / static_cast<double>(C), T)), T);
  Shared ss = row_sumsq(be, be.sub(v, fn::broadcast_cols(be, mean, C)));
  Shared D = be.sub(be.scale(v, static_cast<u64>(C)), fn::broadcast_cols(be, sum, C));  // C (x - mean), exact
  Shared xn = normalize(be, D, ss, C, 1.0 / std::sqrt(static_cast<double>(C)), opt);
  if (!affine) return fn::reshape(be, xn, x.shape());
  return fn::reshape(be, scale_shift(be, xn, g, gp, b, bp), x.shape());
}

}  // namespace

Shared rmsnorm(Backend& be, const Shared& x, const Shared& gamma, const NormOptions& opt) {
  return rms_impl(be, x, &gamma, nullptr, opt);
}
Shared rmsnorm(Backend& be, const Shared& x, const RingTensor& gamma, const NormOptions& opt) {
  return rms_impl(be, x, nullptr, &gamma, opt);
}
Shared rmsnorm(Backend& be, const Shared& x, const NormOptions& opt) { return rms_impl(be, x, nullptr, nullptr, opt); }
Shared layernorm(Backend& be, const Shared& x, const Shared& gamma, const Shared& beta, const NormOptions& opt) {
  return ln_impl(be, x, &gamma, nullptr, &beta, nullptr, opt);
}
Shared layernorm(Backend& be, const Shared& x, const RingTensor& gamma, const RingTensor& beta, const NormOptions& opt) {
  return ln_impl(be, x, nullptr, &gamma, nullptr, &beta, opt);
}
Shared layernorm(Backend& be, const Shared& x, const NormOptions& opt) {
  return ln_impl(be, x, nullptr, nullptr, nullptr, nullptr, opt);
}

}  // namespace marill
