// The FSS spline gate (spline.h describes the public table), as LLAMA's: open x^ = x + r once; ONE
// comparison key on r, evaluated at x^ - K_i for every knot, carries the payload (1, r, .., r^d) and
// gives shares of [x >= K_i] r^k (the multiple-interval trick of Boyle et al. 2021 with a vector
// payload). The piece's c_j (x^ - r)^j = sum_k C(j,k) x^^(j-k) (-1)^k c_j r^k is then a local linear
// combination of them, x^ being public. Online 8 B per element in 1 round, plus the final
// truncation (8 B, 1 round), whatever the number of pieces; CPU grows with it (one DCF walk per
// knot). Dealer bytes: ltz_key_bytes(cmp_bits, d + 1) + (d - 1) * 8 B per element (r^2 .. r^d)
// (+ the truncation's).
#pragma once

#include "protocols/fss/dcf.h"
#include "protocols/fss/dealing.h"
#include "protocols/fss/spline.h"

namespace marill {

struct SplineMaterial {
  RingTensor r;                   // input mask
  std::vector<RingTensor> r_pow;  // r^k, k = 1..d (r^1 is r)
  Bytes keys;                     // comparison keys on r >> cmp_shift, payload (1, r, .., r^d)
};

// The gate takes tables of degree 1 and 2 (exact monomials in X); cubic tables (spline.h: Horner
// form with truncations) go through Backend::spline's comparisons and products instead.
constexpr int kMaxSplineGateDegree = 2;

SplineMaterial deal_spline(Dealing& d, const Shape& shape, const SplineTable& t);

// Online, local step of party `party` (0 client, 1 server) on n elements with x^ opened: its share
// of sum_j c_j x^j at scale S (before the final truncation). Throws std::invalid_argument on
// malformed keys.
RingTensor spline_local(int party, const SplineTable& t, SplineMaterial& m, const RingTensor& xhat);
// The work (protocols/ring/work_meter.h) spline_local counts on n elements, for phantom runs that
// skip it.
void spline_eval_work(const SplineTable& t, i64 n);

}  // namespace marill
