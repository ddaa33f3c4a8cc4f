#include "protocols/fss/spline_gate.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "protocols/fss/ltz_gate.h"
#include "protocols/ring/work_meter.h"

namespace marill {

SplineMaterial deal_spline(Dealing& d, const Shape& shape, const SplineTable& t) {
  if (t.degree > kMaxSplineGateDegree)
    throw std::invalid_argument("spline gate " + t.name + ": degree " + std::to_string(t.degree) + " (the FSS gate takes up to 2)");
  check_spline(t);
  const int deg = t.degree, nq = deg * (deg + 1) / 2;
  SplineMaterial m;
  m.r = d.mask(shape);
  for (int j = 0; j < deg; ++j) m.s.push_back(d.mask(shape));
  std::vector<Shape> shapes(static_cast<size_t>(deg + nq), shape);
  auto corr = d.derived(shapes, [&] {
    std::vector<RingTensor> out;
    for (int k = 1; k <= deg; ++k) out.push_back(k == 1 ? m.r : mul_elem(m.r, m.r));
    std::vector<RingTensor> sr(static_cast<size_t>(nq));
    for (int j = 1; j <= deg; ++j)
      for (int k = 1; k <= j; ++k) sr[static_cast<size_t>(spline_sr_index(j, k))] = mul_elem(m.s[static_cast<size_t>(j - 1)], out[static_cast<size_t>(k - 1)]);
    out.insert(out.end(), sr.begin(), sr.end());
    return out;
  });
  m.r_pow.assign(corr.begin(), corr.begin() + deg);
  m.s_r.assign(corr.begin() + deg, corr.end());
  m.keys = deal_ltz_keys(d, m.r, t.cmp_bits, t.cmp_shift);
  return m;
}

namespace {

constexpr size_t kKnotGroup = 16;  // knots evaluated together (one shared tree prefix per group)

// Coefficient updates per element of spline_coefficients: one per knot and coefficient that changes.
u64 coefficient_terms(const SplineTable& t) {
  u64 terms = 0;
  for (size_t i = 0; i + 1 < t.pieces.size(); ++i)
    for (int j = 0; j <= t.degree; ++j) terms += t.coef[i + 1][static_cast<size_t>(j)] != t.coef[i][static_cast<size_t>(j)];
  return terms;
}

u64 combine_terms(const SplineTable& t) { return static_cast<u64>(t.degree + t.degree * (t.degree + 1) / 2); }

// The knot shifts of group g0 (what spline_coefficients evaluates the key at, relative to its first knot).
size_t group_deltas(const SplineTable& t, size_t g0, std::vector<u64>& deltas) {
  const size_t knots = t.pieces.size() - 1;
  const size_t g = std::min(kKnotGroup, knots - g0);
  for (size_t p = 0; p < g; ++p) deltas[p] = t.knot_ring[g0 + p] - t.knot_ring[g0];
  return g;
}

}  // namespace

void spline_eval_work(const SplineTable& t, i64 n) {
  const size_t knots = t.pieces.size() - 1;
  std::vector<u64> deltas(kKnotGroup);
  for (size_t g0 = 0; g0 < knots; g0 += kKnotGroup) {
    const size_t g = group_deltas(t, g0, deltas);
    ltz_eval_shifts_work(t.cmp_bits, n, deltas.data(), static_cast<int>(g));
  }
  count_work(WorkKind::spline_term, static_cast<u64>(n) * (coefficient_terms(t) + static_cast<u64>(t.degree) + combine_terms(t)));
}

std::vector<u64> spline_coefficients(int party, const SplineTable& t, const LtzKeys& keys, const u64* xh, i64 n) {
  count_work(WorkKind::spline_term, static_cast<u64>(n) * coefficient_terms(t));
  const int deg = t.degree;
  const bool first = party == 0;
  const u64 one = first ? 1 : 0;
  // c_j = C[0][j] + sum_i [x >= K_i] (C[i+1][j] - C[i][j]), stored c[j * n + e].
  std::vector<u64> c(static_cast<size_t>((deg + 1) * n), 0);
  if (first)
    for (int j = 0; j <= deg; ++j) std::fill(c.begin() + j * n, c.begin() + (j + 1) * n, t.coef[0][static_cast<size_t>(j)]);
  // One key, every knot: points (x^ >> g) - K_i, evaluated in groups of knots that share the upper
  // levels of the comparison tree (ltz_eval_shifts); the buffers stay small.
  constexpr size_t kGroup = kKnotGroup;
  const size_t knots = t.pieces.size() - 1;
  const int sh = t.cmp_shift;  // the key hides r >> sh: comparisons see (x^ >> sh) - (r >> sh)
  std::vector<u64> base(static_cast<size_t>(n)), lt(std::min(knots, kGroup) * static_cast<size_t>(n)), deltas(kGroup);
  for (size_t g0 = 0; g0 < knots; g0 += kGroup) {
    const size_t g = group_deltas(t, g0, deltas);
    const u64 K0 = t.knot_ring[g0];
    for (i64 e = 0; e < n; ++e) base[static_cast<size_t>(e)] = (xh[e] >> sh) - K0;
    ltz_eval_shifts(party, keys, base.data(), deltas.data(), static_cast<int>(g), lt.data());
    for (size_t p = 0; p < g; ++p) {
      const size_t i = g0 + p;
      const u64* lti = lt.data() + p * static_cast<size_t>(n);
      for (int j = 0; j <= deg; ++j) {
        const u64 delta = t.coef[i + 1][static_cast<size_t>(j)] - t.coef[i][static_cast<size_t>(j)];
        if (delta == 0) continue;
        u64* cj = c.data() + j * n;
        for (i64 e = 0; e < n; ++e) cj[e] += (one - lti[e]) * delta;
      }
    }
  }
  return c;
}

RingTensor spline_masked_coefficients(const SplineTable& t, const SplineMaterial& m, const std::vector<u64>& c, i64 n) {
  const int deg = t.degree;
  count_work(WorkKind::spline_term, static_cast<u64>(n) * static_cast<u64>(deg));
  RingTensor masked(Shape{deg * n});
  for (int j = 1; j <= deg; ++j) {
    const u64* sj = m.s[static_cast<size_t>(j - 1)].data();
    for (i64 e = 0; e < n; ++e) masked.data()[(j - 1) * n + e] = c[static_cast<size_t>(j * n + e)] + sj[e];
  }
  return masked;
}

RingTensor spline_combine(const SplineTable& t, const SplineMaterial& m, const std::vector<u64>& c,
                          const RingTensor& chat, const RingTensor& xhat) {
  // out = c_0 + sum_j [c_j x^^j + sum_{k=1..j} C(j,k) (-1)^k x^^(j-k) (c^_j <r^k> - <s_j r^k>)].
  const int deg = t.degree;
  const i64 n = xhat.numel();
  count_work(WorkKind::spline_term, static_cast<u64>(n) * combine_terms(t));
  RingTensor out(xhat.shape());
  u64* o = out.data();
  const u64* xh = xhat.data();
  for (i64 e = 0; e < n; ++e) {
    const u64 xe = xh[e];
    u64 acc = c[static_cast<size_t>(e)];
    const u64 xpow[3] = {1, xe, xe * xe};
    for (int j = 1; j <= deg; ++j) {
      const u64 cj = c[static_cast<size_t>(j * n + e)], chj = chat.data()[(j - 1) * n + e];
      acc += cj * xpow[j];
      for (int k = 1; k <= j; ++k) {
        const u64 binom = (j == 2 && k == 1) ? 2 : 1;
        const u64 term = binom * xpow[j - k] *
                         (chj * m.r_pow[static_cast<size_t>(k - 1)].data()[e] - m.s_r[static_cast<size_t>(spline_sr_index(j, k))].data()[e]);
        acc += (k % 2) ? u64{0} - term : term;
      }
    }
    o[e] = acc;
  }
  return out;
}

}  // namespace marill
