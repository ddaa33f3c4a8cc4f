// The FSS spline gate (spline.h describes the public table): open x^ = x + r once; ONE comparison
// key on r, evaluated at x^ - K_i for every knot, gives shares of every [x >= K_i] (the
// multiple-interval trick of Boyle et al. 2021, as LLAMA/SIGMA), so the piece's coefficients c_j
// are local linear combinations; open c_j + s_j (j >= 1) and form c_j x^j = c_j (x^ - r)^j from
// dealt shares of r^k and s_j r^k. Online 8 (d + 1) B per element in 3 rounds (with the final
// truncation) whatever the number of pieces; CPU grows with it (one DCF walk per knot).
// Dealer bytes: 2 ltz_key_bytes(cmp_bits) + (d + d(d+1)/2) * 8 B per element (+ the truncation's).
#pragma once

#include "protocols/fss/dcf.h"
#include "protocols/fss/dealing.h"
#include "protocols/fss/spline.h"

namespace marill {

struct SplineMaterial {
  RingTensor r;                 // input mask
  std::vector<RingTensor> s;    // s_j, j = 1..d: masks of the opened coefficients
  std::vector<RingTensor> r_pow;  // r^k, k = 1..d
  std::vector<RingTensor> s_r;    // s_j r^k, 1 <= k <= j <= d, at spline_sr_index(j, k)
  Bytes keys;                   // comparison keys on r >> cmp_shift (this party's)
};

inline int spline_sr_index(int j, int k) { return j * (j - 1) / 2 + (k - 1); }

// The gate takes tables of degree 1 and 2 (exact monomials in X); cubic tables (spline.h: Horner
// form with truncations) go through Backend::spline's comparisons and products instead.
constexpr int kMaxSplineGateDegree = 2;

SplineMaterial deal_spline(Dealing& d, const Shape& shape, const SplineTable& t);

// Online, local steps of party `party` (0 client, 1 server) on n elements with x^ opened:
// 1. its shares of the piece's coefficients c_j (j = 0..d; out (d+1)*n, c[j*n + e]) from the
//    comparisons at every knot;
//    (keys: m.keys deserialized, moved out of the material so the largest buffer exists once)
std::vector<u64> spline_coefficients(int party, const SplineTable& t, const LtzKeys& keys, const u64* xhat, i64 n);
// 2. the masked coefficients c_j + s_j (j = 1..d) it opens, (d*n);
RingTensor spline_masked_coefficients(const SplineTable& t, const SplineMaterial& m, const std::vector<u64>& c, i64 n);
// 3. its share of sum_j c_j x^j at scale S (before the final truncation), from the opened c^_j
//    (the public terms sit in the client's c_0 already).
RingTensor spline_combine(const SplineTable& t, const SplineMaterial& m, const std::vector<u64>& c,
                          const RingTensor& chat, const RingTensor& xhat);
// The work (protocols/ring/work_meter.h) steps 1-3 count on n elements, for phantom runs that
// skip them.
void spline_eval_work(const SplineTable& t, i64 n);

}  // namespace marill
