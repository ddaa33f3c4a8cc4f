#include "protocols/fss/spline_gate.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "protocols/fss/ltz_gate.h"
#include "protocols/ring/thread_pool.h"
#include "protocols/ring/work_meter.h"

namespace marill {

SplineMaterial deal_spline(Dealing& d, const Shape& shape, const SplineTable& t) {
  if (t.degree > kMaxSplineGateDegree)
    throw std::invalid_argument("spline gate " + t.name + ": degree " + std::to_string(t.degree) + " (the FSS gate takes up to 2)");
  check_spline(t);
  SplineMaterial m;
  m.r = d.mask(shape);
  m.r_pow.push_back(m.r);
  for (int k = 2; k <= t.degree; ++k) m.r_pow.push_back(d.derived(shape, [&] { return mul_elem(m.r_pow.back(), m.r); }));
  m.keys = deal_ltz_keys(d, m.r, t.cmp_bits, t.cmp_shift, m.r_pow);
  return m;
}

namespace {

constexpr size_t kKnotGroup = 16;  // knots evaluated together (one shared tree prefix per group)

// The pairs (j, k), k <= j, of the terms c_j r^k.
int term_count(int degree) { return (degree + 1) * (degree + 2) / 2; }
int term_index(int j, int k) { return j * (j + 1) / 2 + k; }

// Term updates per element of spline_local: one per knot, coefficient that changes and power.
u64 knot_terms(const SplineTable& t) {
  u64 terms = 0;
  for (size_t i = 0; i + 1 < t.pieces.size(); ++i)
    for (int j = 0; j <= t.degree; ++j) terms += (t.coef[i + 1][static_cast<size_t>(j)] != t.coef[i][static_cast<size_t>(j)]) * static_cast<u64>(j + 1);
  return terms;
}

// The knot shifts of group g0 (what spline_local evaluates the key at, relative to its first knot).
size_t group_deltas(const SplineTable& t, size_t g0, std::vector<u64>& deltas) {
  const size_t knots = t.pieces.size() - 1;
  const size_t g = std::min(kKnotGroup, knots - g0);
  for (size_t p = 0; p < g; ++p) deltas[p] = t.knot_ring[g0 + p] - t.knot_ring[g0];
  return g;
}

// Elements evaluated together: a block's comparison outputs (16 knots x (d+1) words) stay in L2.
constexpr i64 kElementBlock = 1024;  // and the unit of work of one thread

}  // namespace

void spline_eval_work(const SplineTable& t, i64 n) {
  const size_t knots = t.pieces.size() - 1;
  std::vector<u64> deltas(kKnotGroup);
  for (size_t g0 = 0; g0 < knots; g0 += kKnotGroup) {
    const size_t g = group_deltas(t, g0, deltas);
    ltz_eval_shifts_work(t.cmp_bits, n, deltas.data(), static_cast<int>(g), t.degree + 1);
  }
  count_work(WorkKind::spline_term, static_cast<u64>(n) * (knot_terms(t) + 2 * static_cast<u64>(term_count(t.degree))));
}

RingTensor spline_local(int party, const SplineTable& t, SplineMaterial& m, const RingTensor& xhat) {
  const int deg = t.degree, W = deg + 1;
  const i64 n = xhat.numel();
  const LtzKeys keys = ltz_deserialize(std::move(m.keys), n, t.cmp_bits, W);
  spline_eval_work(t, n);  // counted here, on the party's thread: the blocks' kernels count nothing
  RingTensor out(xhat.shape());
  const size_t knots = t.pieces.size() - 1;
  const int sh = t.cmp_shift;  // the key hides r >> sh: comparisons see (x^ >> sh) - (r >> sh)
  const auto& last = t.coef.back();
  const auto B = static_cast<size_t>(std::min(n, kElementBlock));
  struct Slot {
    std::vector<u64> pay, A, base, lt, deltas;
  };
  const i64 blocks = (n + kElementBlock - 1) / kElementBlock;
  const int slots = static_cast<int>(std::min<i64>(compute_threads(), blocks));
  std::vector<Slot> state(static_cast<size_t>(slots));
  for (Slot& sl : state) {
    sl.pay.resize(static_cast<size_t>(deg) * B);
    sl.A.resize(static_cast<size_t>(term_count(deg)) * B);
    sl.base.resize(B);
    sl.lt.resize(std::min(knots, kKnotGroup) * static_cast<size_t>(W) * B);
    sl.deltas.resize(kKnotGroup);
  }
  // Element blocks are independent: they go to the pool's threads (whose DCF walks then run on
  // the block's own thread).
  parallel_chunks(blocks, slots, [&](int slot, i64 block) {
    DiscardWorkScope counted_above;
    Slot& sl = state[static_cast<size_t>(slot)];
    std::vector<u64>&pay = sl.pay, &A = sl.A, &base = sl.base, &lt = sl.lt, &deltas = sl.deltas;
    const i64 e0 = block * kElementBlock;
    const i64 mb = std::min(kElementBlock, n - e0);
    const auto un = static_cast<size_t>(mb);
    const u64* xh = xhat.data() + e0;
    // This party's shares of the payload words r^1..r^d, word-major.
    for (int j = 1; j <= deg; ++j) std::copy_n(m.r_pow[static_cast<size_t>(j - 1)].data() + e0, mb, pay.data() + static_cast<size_t>(j - 1) * un);
    // A[(j,k)] = share of c_j r^k = C_last,j r^k - sum_i (C[i+1][j] - C[i][j]) [x < K_i] r^k, since
    // c_j = C_last,j - sum_i delta_ij [x < K_i] (r^0 = 1 is the first party's).
    for (int j = 0; j <= deg; ++j)
      for (int q = 0; q <= j; ++q) {
        u64* a = A.data() + static_cast<size_t>(term_index(j, q)) * un;
        const u64 c = last[static_cast<size_t>(j)];
        if (q == 0) {
          std::fill_n(a, mb, party == 0 ? c : 0);
        } else {
          const u64* rq = pay.data() + static_cast<size_t>(q - 1) * un;
          for (size_t e = 0; e < un; ++e) a[e] = c * rq[e];
        }
      }
    // One key, every knot: points (x^ >> g) - K_i, evaluated in groups of knots that share the upper
    // levels of the comparison tree (ltz_eval_payload_shifts).
    for (size_t g0 = 0; g0 < knots; g0 += kKnotGroup) {
      const size_t g = group_deltas(t, g0, deltas);
      const u64 K0 = t.knot_ring[g0];
      for (size_t e = 0; e < un; ++e) base[e] = (xh[e] >> sh) - K0;
      ltz_eval_payload_shifts_range(party, keys, e0, mb, base.data(), deltas.data(), static_cast<int>(g), pay.data(), lt.data());
      for (size_t p = 0; p < g; ++p) {
        const size_t i = g0 + p;
        for (int j = 0; j <= deg; ++j) {
          const u64 delta = t.coef[i + 1][static_cast<size_t>(j)] - t.coef[i][static_cast<size_t>(j)];
          if (delta == 0) continue;
          for (int q = 0; q <= j; ++q) {
            const u64* b = lt.data() + (p * static_cast<size_t>(W) + static_cast<size_t>(q)) * un;  // [x < K_i] r^q
            u64* a = A.data() + static_cast<size_t>(term_index(j, q)) * un;
            for (size_t e = 0; e < un; ++e) a[e] -= delta * b[e];
          }
        }
      }
    }
    // out = sum_j sum_q C(j,q) (-1)^q x^^(j-q) c_j r^q.
    u64* o = out.data() + e0;
    for (size_t e = 0; e < un; ++e) {
      const u64 x = xh[e];
      const u64 xpow[3] = {1, x, x * x};
      u64 acc = 0;
      for (int j = 0; j <= deg; ++j)
        for (int q = 0; q <= j; ++q) {
          const u64 binom = (j == 2 && q == 1) ? 2 : 1;
          const u64 term = binom * xpow[j - q] * A[static_cast<size_t>(term_index(j, q)) * un + e];
          acc += (q % 2) ? u64{0} - term : term;
        }
      o[e] = acc;
    }
  }, WorkKind::dcf_eval_level);
  return out;
}

}  // namespace marill
