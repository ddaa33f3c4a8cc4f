// Softmax and its MPC-friendly approximations over the last axis (functions.h).
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "protocols/functions/fn_internal.h"
#include "protocols/functions/functions.h"

namespace marill {

namespace {

using fn::KeepList;

// The kept scores as a flat vector (masked positions left out), and per kept element its row.
struct Rows {
  Shape shape;   // original (..., Tq, Tk)
  i64 R, n;      // rows and their length
  KeepList keep;
  i64 kept() const { return keep.count; }
};

Rows rows_of(const Shared& x, const SoftmaxOptions& opt) {
  Rows r;
  r.shape = x.shape();
  r.keep = fn::causal_keep(r.shape, opt.causal, opt.query_offset, !x.phantom());
  r.n = r.shape.back();
  r.R = x.numel() / r.n;
  return r;
}

Shared kept(Backend& be, const Rows& r, const Shared& x) {
  if (r.keep.all) return fn::reshape(be, x, {r.R * r.n});
  return fn::gather(be, x, r.keep.pos, {r.kept()});
}

// Per-row values (R,1) repeated for every kept element of the row.
Shared per_kept(Backend& be, const Rows& r, const Shared& col) {
  if (r.keep.all) return fn::reshape(be, fn::broadcast_cols(be, col, r.n), {r.R * r.n});
  return fn::gather(be, col, r.keep.row, {r.kept()});
}

// Flat kept values back to (R, n) with zeros at masked positions.
Shared unkept(Backend& be, const Rows& r, const Shared& v) {
  if (r.keep.all) return fn::reshape(be, v, {r.R, r.n});
  return fn::scatter(be, v, r.keep.pos, {r.R, r.n});
}

// p = num / (sum_row(num) + add) for non-negative num (flat kept, at num_bits), sums in [lo, hi].
Shared normalize_rows(Backend& be, const Rows& r, const Shared& num, int num_bits, double add, double lo, double hi) {
  const int fb = be.frac_bits();
  Shared sums = fn::sum_last(be, unkept(be, r, num));  // (R,1)
  if (add != 0) sums = fn::add_const(be, sums, add, num_bits);
  Shared inv;
  int inv_bits;
  {
    OpScope scope(be.ledger(), "reciprocal");
    // 1/sum = y o with o = 2^-(j+1) exact at o_bits; y at 24 bits where y o <= 2/lo leaves room.
    int o_bits = static_cast<int>(std::floor(std::log2(hi))) + 1;
    int y_bits = std::min(24, 61 - static_cast<int>(std::ceil(std::log2(2 / lo))) - o_bits);
    if (y_bits < fb) throw std::invalid_argument("softmax: score_bound or row length too large");
    fn::InvPow ip = fn::inv_pow(be, sums, num_bits, lo, hi, false, 1.0, o_bits, y_bits);
    inv_bits = std::min(61 - num_bits, y_bits + o_bits);
    inv = fn::rescale(be, be.mul(ip.y, ip.o), y_bits + o_bits, inv_bits);
  }
  // p <= 1: num * inv fits in num_bits + inv_bits <= 61 bits.
  // The row's inverse is opened once for the row (Backend::mul_rows).
  const int drop = num_bits + inv_bits - fb;
  Shared p = r.keep.all ? fn::reshape(be, be.mul_cols_trunc(fn::reshape(be, num, {r.R, r.n}), inv, drop), {r.R * r.n})
                        : be.mul_rows_trunc(num, inv, r.keep.lengths, drop);
  return fn::reshape(be, unkept(be, r, p), r.shape);
}

}  // namespace

Shared softmax(Backend& be, const Shared& scores, const SoftmaxOptions& opt) {
  OpScope scope(be.ledger(), "softmax");
  constexpr int E = 28;  // exp values and their sums: 2^-28 each keeps a 2048-term sum exact to 2^-17
  Rows r = rows_of(scores, opt);
  Shared x = fn::reshape(be, scores, {r.R, r.n});
  // Softmax is shift-invariant, so the max need only be close: a near-max within 1/2 of the row's
  // (comparisons drop about f - log2(2 levels) bits), plus the slack that puts it above every score.
  const int fb = be.frac_bits();
  const fn::NearMaxPlan near = fn::near_max_plan(fb, opt.score_bound, r.n, 0.5);
  const double slack = near.slack;
  Shared mx;
  {
    OpScope s(be.ledger(), "max");
    // Causal rows compare only the scores they keep.
    mx = r.keep.all ? fn::tournament_max(be, x, opt.score_bound, false, near.resolution).value
                    : fn::ragged_max(be, kept(be, r, x), r.keep.lengths, opt.score_bound, near.resolution);
    if (slack > 0) mx = fn::add_const(be, mx, slack, fb);
  }
  Shared d = be.sub(kept(be, r, x), per_kept(be, r, mx));  // < 0, the row's max within `slack` of 0
  Shared e;
  {
    OpScope s(be.ledger(), "exp");
    e = fn::exp_neg_core(be, d, opt.exp_clip, 2 * opt.score_bound + slack, E);
  }
  // The row's max contributes at least e^-slack >= e^-1/2, so sums lie in [0.6, n] up to rounding.
  return normalize_rows(be, r, e, E, 0.0, 0.5, static_cast<double>(r.n) + 1);
}

Shared softmax_2relu(Backend& be, const Shared& scores, const SoftmaxOptions& opt) {
  OpScope scope(be.ledger(), "softmax");
  const int fb = be.frac_bits();
  Rows r = rows_of(scores, opt);
  Shared x = kept(be, r, fn::reshape(be, scores, {r.R, r.n}));
  Shared pos;
  {
    OpScope s(be.ledger(), "relu");
    pos = be.sub(x, fn::negative_part(be, x, fb, opt.score_bound));
  }
  const double eps = std::ldexp(1.0, -fb);  // sums >= eps exactly
  return normalize_rows(be, r, pos, fb, eps, eps, r.n * opt.score_bound + 1);
}

Shared softmax_2quad(Backend& be, const Shared& scores, const SoftmaxOptions& opt) {
  OpScope scope(be.ledger(), "softmax");
  const int fb = be.frac_bits();
  constexpr double c = 5.0;
  Rows r = rows_of(scores, opt);
  Shared y = fn::add_const(be, kept(be, r, fn::reshape(be, scores, {r.R, r.n})), c, fb);
  // q at 24 bits: its rounding, divided by a small row sum, stays below 2^-16 for sums >= 2^-8.
  constexpr int Q = 24;
  Shared q = fn::mul_tr(be, y, y, 2 * fb - Q);
  const double eps = std::ldexp(1.0, -fb);  // sums >= eps exactly (q >= 0)
  const double qmax = (opt.score_bound + c) * (opt.score_bound + c);
  return normalize_rows(be, r, q, Q, eps, eps, r.n * qmax + 1);
}

Shared softmax_by_policy(Backend& be, const Shared& scores, const SoftmaxOptions& opt) {
  switch (be.policy().softmax) {
    case SoftmaxApprox::exact: return softmax(be, scores, opt);
    case SoftmaxApprox::relu2: return softmax_2relu(be, scores, opt);
    case SoftmaxApprox::quad2: return softmax_2quad(be, scores, opt);
  }
  throw std::logic_error("softmax approximation");
}

}  // namespace marill
