// Building blocks shared by the function library (functions.h); not a public API.
// Everything here is written against the Backend interface only and is data-oblivious: public
// parameters may steer control flow, secret values never do, and a phantom party runs the same calls.
//
// Fixed-point bookkeeping: functions keep intermediates at more fractional bits than the backend's
// (16 by default) where precision needs it. A Shared carries no precision tag, so each helper takes
// the bit counts explicitly; every magnitude bound is checked against the 2^62 limit of trunc.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "protocols/mpc/backend.h"
#include "protocols/fss/spline.h"

namespace marill::fn {

// round(v * 2^bits) as a ring element (two's complement). Throws if it does not fit in 62 bits.
u64 enc(double v, int bits);

// Public tensors for this party's mode (phantom parties get the shape only).
RingTensor fill(const Backend& be, const Shape& shape, u64 v);
RingTensor pub(const Backend& be, const Shape& shape, const std::vector<u64>& values);

// Integer 1 - b for an integer 0/1 sharing b.
Shared one_minus(Backend& be, const Shared& b);
// x + v, v encoded at `bits` fractional bits.
Shared add_const(Backend& be, const Shared& x, double v, int bits);
// x * k for a public ring constant (no truncation).
inline Shared times(Backend& be, const Shared& x, u64 k) { return be.scale(x, k); }

// Product truncated by `bits`: the backend's fused mul_trunc when bits is its precision (3pc: 2
// rounds), else mul then trunc. Requires |a*b| < 2^62 as ring values.
Shared mul_tr(Backend& be, const Shared& a, const Shared& b, int bits);
// Changes the fractional bits of x from `from` to `to` (a trunc when going down, free going up).
Shared rescale(Backend& be, const Shared& x, int from, int to);

// ltz bit width for values with |v| <= max_abs at `frac` fractional bits (with margin).
int cmp_bits(int frac, double max_abs);
// The ltz `low` (Backend::ltz) of a comparison that may answer either way where |v| < resolution
// (real, at `frac` bits): the largest low with 2^(low - frac) <= resolution, at most bits - 3.
int cmp_low(int frac, double max_abs, double resolution);
// [x < 0] as an integer sharing; the caller promises |x| <= max_abs (real, at `frac` bits). With
// resolution > 0 the answer is exact only where |x| >= resolution (cmp_low: a cheaper comparison).
Shared less_than_zero(Backend& be, const Shared& x, int frac, double max_abs, double resolution = 0);
// min(x, 0) = [x < 0]·x, same promise and resolution (Backend::negative_part).
Shared negative_part(Backend& be, const Shared& x, int frac, double max_abs, double resolution = 0);

// ---- batching: one interactive call for several independent tensors (one round group) ----
Shared pack(Backend& be, const std::vector<Shared>& xs);  // flatten and concatenate
std::vector<Shared> unpack(Backend& be, const Shared& packed, const std::vector<Shape>& shapes);
std::vector<Shared> mul_many(Backend& be, const std::vector<Shared>& a, const std::vector<Shared>& b);
std::vector<Shared> mul_tr_many(Backend& be, const std::vector<Shared>& a, const std::vector<Shared>& b, int bits);
std::vector<Shared> trunc_many(Backend& be, const std::vector<Shared>& xs, int bits);

// ---- public data movement (linear, free) ----
Shared reshape(Backend& be, const Shared& x, const Shape& shape);
// out[i] = x.flat[idx[i]]; shape `out`.
Shared gather(Backend& be, const Shared& x, const std::vector<i64>& idx, const Shape& out);
// out.flat[idx[i]] = x.flat[i], zeros elsewhere (idx distinct).
Shared scatter(Backend& be, const Shared& x, const std::vector<i64>& idx, const Shape& out);
// (R,1) -> (R,n)
Shared broadcast_cols(Backend& be, const Shared& col, i64 n);
// (n) -> (R,n), the same row R times.
Shared tile_rows(Backend& be, const Shared& row, i64 rows);
RingTensor tile_rows(const RingTensor& row, i64 rows);
// Sum over the last axis: (..., n) -> (..., 1).
Shared sum_last(Backend& be, const Shared& x);

// ---- polynomials ----
// t^1..t^d at F fractional bits, computed level by level (t^(2^(L-1)+j) = t^(2^(L-1)) * t^j):
// ceil(log2 d) batched multiplications. Returns pw with pw[k] = t^k (pw[0] unused).
std::vector<Shared> powers(Backend& be, const Shared& t, int d, int F);
// sum_k coefs[k] t^k from powers at F bits, returned at `out_bits` (one trunc). `bound` bounds
// sum_k |coefs[k]| |t|^k for the magnitude check.
Shared poly_eval(Backend& be, const std::vector<Shared>& pw, const std::vector<double>& coefs, int F, int out_bits,
                 double bound);
// sum_k coefs[k] t^k with few fixed-point products (Paterson and Stockmeyer's baby steps, then
// Horner's rule in t^4): blocks q_i of four coefficients, local in t..t^4, and
// p = q_0 + t^4 (q_1 + t^4 (q_2 + ...)). Degree d takes 3 products for t^2..t^4, then one batch of
// truncations (the blocks past the first) and one product per block past the first, where powers()
// and poly_eval take d - 1 products: degree 12 is 5 products and 2 truncations against 11, degree
// 16 6 and 3 (giant steps would form t^8, t^12, .. with B - 2 products more, for the same
// rounds). t at F bits with |t| <= tmax (the magnitude checks); returns p at out_bits (one more
// truncation).
Shared poly_eval_blocked(Backend& be, const Shared& t, const std::vector<double>& coefs, int F, int out_bits, double tmax);
// How the blocks past the first enter Horner's rule (poly_eval_blocked_raw).
enum class Horner {
  // Each truncated to F bits first (one batch of B - 1 truncations): any F.
  truncated,
  // As they are: t^4 (F bits) times s_i (F + G_i bits), block 1's coefficient bits G_1 the room its
  // product leaves below 2^62 (later blocks at most as many, block 0 as many as its sum allows), so
  // no truncation of blocks, for a low F (GeLU: 19).
  untruncated,
  // As untruncated, in u = T_4(t) = 8t^4 - 8t^2 + 1 (|t| <= 1, |u| <= 1): the blocks are p's
  // remainders by u, whose coefficients stay near p's Chebyshev coefficients where p's own grow
  // (SiLU's degree-16 fit: 0.32 at most, against 22), so far more room is left.
  chebyshev,
};
// The same before its last truncation: p at `bits` fractional bits (|p| < 2^(61 - bits) by the
// magnitude check), for a caller that truncates it within a product.
struct FixedShared {
  Shared v;
  int bits;
};
FixedShared poly_eval_blocked_raw(Backend& be, const Shared& t, const std::vector<double>& coefs, int F, double tmax,
                                  Horner horner = Horner::truncated);

// ---- range reduction for d^p, p in {-1, -1/2}: d = m * B^(j+1) with m in [1/B, 1) ----
// d in [lo, hi] at `in_bits` fractional bits, any shape. One batched ltz call against the public
// thresholds mu * B^j (mu: mantissa pieces) makes a one-hot segment indicator; a piecewise-linear
// y0 ~ m^p on each piece starts the iteration. Returns y ~ m^p at `y_bits` and o = out_scale *
// 2^-(j+1) at `o_bits`, so d^p ~ y * o. Costs: one ltz call (segments-1 values per element), one
// mul (pieces per element), one trunc, then the iteration (reciprocal: 3 levels, rsqrt: 4).
struct InvPow {
  Shared y;
  int y_bits;
  Shared o;
  int o_bits;
};
InvPow inv_pow(Backend& be, const Shared& d, int in_bits, double lo, double hi, bool rsqrt, double out_scale,
               int o_bits, int y_bits);

// ---- spline tables, fitted once per key and shared by every party thread ----
const SplineTable& cached_spline(const std::string& key, const std::function<SplineTable()>& make);

// ---- exp for x <= 0 (functions.h: exp_neg), result at out_bits (<= 28) ----
Shared exp_neg_core(Backend& be, const Shared& x, double clip, double bound, int out_bits);

// ---- max over the last axis by a tournament (log2 n levels of ltz + select) ----
// x (R, n) at 16 bits with |x| <= bound. Returns the max (R,1) and, if want_index, the integer index
// sharing (R,1) of a maximal element (the lower index on ties).
struct MaxResult {
  Shared value;
  Shared index;
};
// With resolution > 0 (values only, not with want_index) each level's comparisons may misjudge
// pairs closer than `resolution` (fn::less_than_zero): the result is an element of its row at most
// ceil(log2 n) * resolution below the row's max (a softmax needs no more).
MaxResult tournament_max(Backend& be, const Shared& x, double bound, bool want_index, double resolution = 0);
// The max of every row of a ragged x: its n elements (flattened) are rows of lengths[r] >= 1
// consecutive elements (the kept scores of causal rows). Returns (R, 1). A row of L elements pays
// L - 1 comparisons in ceil(log2 L) levels, the rows side by side: a causal prefill compares only
// what it keeps, half of a full tournament over its rows. `resolution` as tournament_max's.
Shared ragged_max(Backend& be, const Shared& x, const RowLengths& lengths, double bound, double resolution = 0);
// A near-max of rows of up to n elements within `budget` of the row max: the resolution to give
// tournament_max / ragged_max (budget / levels) and `slack`, the bound (< budget) of what their
// comparisons may lose, so the near-max plus slack is above every element.
struct NearMaxPlan {
  double resolution = 0, slack = 0;
};
NearMaxPlan near_max_plan(int frac, double bound, i64 n, double budget);

// ---- softmax plumbing ----
// The positions of (..., Tq, Tk) that a causal mask keeps (query i sees keys j <= offset + i):
// their number, and with `materialize` their flat positions and the row (flat index over
// (..., Tq)) each one belongs to. Phantom runs pass materialize = false: they need the count only,
// and the lists grow with the scores (gigabytes for 32 heads at b = 2048).
struct KeepList {
  std::vector<i64> pos, row;  // empty unless materialized
  RowLengths lengths;         // kept positions per row (when something is masked)
  i64 count = 0;              // kept positions (all of them when nothing is masked)
  bool all = true;            // nothing masked
};
KeepList causal_keep(const Shape& scores, bool causal, i64 offset, bool materialize = true);

}  // namespace marill::fn
