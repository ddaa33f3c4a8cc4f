// The FSS spline gate (spline.h describes the public table) in two steps, each an FSS key on a mask
// the dealer drew:
//  1. Piece index. Open x^ = x + r once; ONE comparison key on r >> cmp_shift, evaluated at
//     (x^ >> cmp_shift) - K_i for every knot (the multiple-interval trick of Boyle et al. 2021, as
//     LLAMA's spline), gives shares of [x < K_i], and their sum the piece index i(x). Only the index
//     is wanted, mod 2^m (m = spline_index_bits), so the key's value words are one byte each
//     (dcf.h): 17 B per level where a payload of (1, r, r^2) cost 40.
//  2. Table lookup. The parties open u = i(x) + s mod 2^m (s a fresh mask: u is uniform) and
//     evaluate a DPF keyed at s with payload (1, r, .., r^d) at every point u - v (dpf.h, Boyle,
//     Gilboa, Ishai CCS 2016; the lookup of SIGMA's LUT gates, here with a vector payload): shares of
//     [i(x) = v] r^k for every piece v. The piece's c_j (x^ - r)^j = sum_k C(j,k) x^^(j-k) (-1)^k
//     c_j r^k is then a local linear combination of them, x^ being public.
// Online per element: 8 B (x^) and m bits (u) in 2 rounds, plus the final truncation (8 B, 1
// round), whatever the number of pieces; CPU grows with them (one DCF walk per knot, the DPF's 2^m
// leaves). Dealer bytes per element and party: spline_key_bytes(t) (+ the truncation's).
#pragma once

#include "protocols/fss/dealing.h"
#include "protocols/fss/spline.h"

namespace marill {

struct SplineMaterial {
  RingTensor r;      // input mask
  RingTensor s;      // piece-index mask (its low spline_index_bits bits)
  Bytes index_keys;  // comparison keys on r >> cmp_shift, value words of one byte
  Bytes table_keys;  // DPF keys at s mod 2^m, payload (1, r, .., r^d)
};

// The gate takes tables of degree 1 and 2 (exact monomials in X); cubic tables (spline.h: Horner
// form with truncations) go through Backend::spline's comparisons and products instead.
constexpr int kMaxSplineGateDegree = 2;

// m: the bits of the opened piece index, ceil(log2(pieces)) (at least 1; at most 8, as the index
// keys' one-byte words hold).
int spline_index_bits(const SplineTable& t);
// Key bytes per element and party: ltz_key_bytes(cmp_bits, 1, 1) + dpf_key_bytes(m, d + 1).
std::size_t spline_key_bytes(const SplineTable& t);

SplineMaterial deal_spline(Dealing& d, const Shape& shape, const SplineTable& t);

// Step 1 of party `party` (0 client, 1 server) on n elements with x^ opened: its share of
// u = i(x) + s mod 2^m, to be opened (m bits per element). Throws std::invalid_argument on
// malformed keys.
RingTensor spline_index_share(int party, const SplineTable& t, SplineMaterial& m, const RingTensor& xhat);
// Step 2, with u opened: its share of sum_j c_j x^j at scale S (before the final truncation).
// Throws std::invalid_argument on malformed keys.
RingTensor spline_local(int party, const SplineTable& t, SplineMaterial& m, const RingTensor& xhat, const RingTensor& u);
// The work (protocols/ring/work_meter.h) each step counts on n elements, for phantom runs that
// skip them.
void spline_index_work(const SplineTable& t, i64 n);
void spline_table_work(const SplineTable& t, i64 n);

}  // namespace marill
