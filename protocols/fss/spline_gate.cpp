#include "protocols/fss/spline_gate.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "protocols/fss/dpf.h"
#include "protocols/fss/ltz_gate.h"
#include "protocols/ring/thread_pool.h"
#include "protocols/ring/work_meter.h"

namespace marill {

namespace {

constexpr int kIndexValueBytes = 1;  // the index keys' value words: the index is wanted mod 2^m <= 2^8

void check_gate_table(const SplineTable& t) {
  if (t.degree > kMaxSplineGateDegree)
    throw std::invalid_argument("spline gate " + t.name + ": degree " + std::to_string(t.degree) + " (the FSS gate takes up to 2)");
  check_spline(t);
}

u64 index_mask(int m) { return (u64{1} << m) - 1; }

constexpr size_t kKnotGroup = 16;  // knots evaluated together (one shared tree prefix per group)

// The pairs (j, k), k <= j, of the terms c_j r^k.
int term_count(int degree) { return (degree + 1) * (degree + 2) / 2; }
int term_index(int j, int k) { return j * (j + 1) / 2 + k; }

// Term updates per element of spline_local: one per piece and term.
u64 table_terms(const SplineTable& t) { return t.pieces.size() * static_cast<u64>(term_count(t.degree)); }

// The knot shifts of group g0 (what spline_index_share evaluates the key at, relative to its first knot).
size_t group_deltas(const SplineTable& t, size_t g0, std::vector<u64>& deltas) {
  const size_t knots = t.pieces.size() - 1;
  const size_t g = std::min(kKnotGroup, knots - g0);
  for (size_t p = 0; p < g; ++p) deltas[p] = t.knot_ring[g0 + p] - t.knot_ring[g0];
  return g;
}

// Elements per unit of work of one thread: step 1's comparison outputs (16 knots) and step 2's DPF
// leaves (2^m x (d+1) words each) stay in L2.
constexpr i64 kIndexBlock = 1024, kTableBlock = 128;

}  // namespace

int spline_index_bits(const SplineTable& t) {
  int m = 1;
  while ((i64{1} << m) < t.num_pieces()) ++m;
  if (m > 8 * kIndexValueBytes)
    throw std::invalid_argument("spline gate " + t.name + ": " + std::to_string(t.num_pieces()) + " pieces (the gate takes up to 256)");
  return m;
}

std::size_t spline_key_bytes(const SplineTable& t) {
  return ltz_key_bytes(t.cmp_bits, 1, kIndexValueBytes) + dpf_key_bytes(spline_index_bits(t), t.degree + 1);
}

SplineMaterial deal_spline(Dealing& d, const Shape& shape, const SplineTable& t) {
  check_gate_table(t);
  const int m = spline_index_bits(t), W = t.degree + 1;
  SplineMaterial mat;
  mat.r = d.mask(shape);
  mat.index_keys = deal_ltz_keys(d, mat.r, t.cmp_bits, t.cmp_shift, {}, kIndexValueBytes);
  mat.s = d.mask(shape);
  const i64 n = mat.r.numel();
  mat.table_keys = d.keys(static_cast<u64>(n) * dpf_key_bytes(m, W), [&] {
    std::vector<u64> alpha(static_cast<size_t>(n)), beta(static_cast<size_t>(n * W));
    for (i64 e = 0; e < n; ++e) {
      alpha[static_cast<size_t>(e)] = mat.s.data()[e] & index_mask(m);
      u64 p = 1;
      for (int j = 0; j < W; ++j, p *= mat.r.data()[e]) beta[static_cast<size_t>(e * W + j)] = p;
    }
    auto keys = dpf_gen(m, alpha.data(), beta.data(), n, d.dealer_prg(), W);
    return std::make_pair(std::move(keys.first.bytes), std::move(keys.second.bytes));
  });
  return mat;
}

void spline_index_work(const SplineTable& t, i64 n) {
  const size_t knots = t.pieces.size() - 1;
  std::vector<u64> deltas(kKnotGroup);
  for (size_t g0 = 0; g0 < knots; g0 += kKnotGroup) {
    const size_t g = group_deltas(t, g0, deltas);
    ltz_eval_shifts_work(t.cmp_bits, n, deltas.data(), static_cast<int>(g), 1, kIndexValueBytes);
  }
  count_work(WorkKind::spline_term, static_cast<u64>(n) * knots);
}

void spline_table_work(const SplineTable& t, i64 n) {
  dpf_eval_all_work(spline_index_bits(t), n, t.degree + 1);
  count_work(WorkKind::spline_term, static_cast<u64>(n) * (table_terms(t) + 2 * static_cast<u64>(term_count(t.degree))));
}

RingTensor spline_index_share(int party, const SplineTable& t, SplineMaterial& m, const RingTensor& xhat) {
  check_gate_table(t);
  const i64 n = xhat.numel();
  const LtzKeys keys = ltz_deserialize(std::move(m.index_keys), n, t.cmp_bits, 1, kIndexValueBytes);
  spline_index_work(t, n);  // counted here, on the party's thread: the blocks' kernels count nothing
  const u64 mask = index_mask(spline_index_bits(t));
  const size_t knots = t.pieces.size() - 1;
  const int sh = t.cmp_shift;  // the key hides r >> sh: comparisons see (x^ >> sh) - (r >> sh)
  RingTensor out(xhat.shape());
  const auto B = static_cast<size_t>(std::min(n, kIndexBlock));
  struct Slot {
    std::vector<u64> base, lt, deltas;
  };
  const i64 blocks = (n + kIndexBlock - 1) / kIndexBlock;
  const int slots = static_cast<int>(std::min<i64>(compute_threads(), blocks));
  std::vector<Slot> state(static_cast<size_t>(slots));
  for (Slot& sl : state) {
    sl.base.resize(B);
    sl.lt.resize(std::min(knots, kKnotGroup) * B);
    sl.deltas.resize(kKnotGroup);
  }
  parallel_chunks(blocks, slots, [&](int slot, i64 block) {
    DiscardWorkScope counted_above;
    Slot& sl = state[static_cast<size_t>(slot)];
    const i64 e0 = block * kIndexBlock;
    const i64 mb = std::min(kIndexBlock, n - e0);
    const auto un = static_cast<size_t>(mb);
    const u64* xh = xhat.data() + e0;
    u64* o = out.data() + e0;
    // i(x) = knots - sum_i [x < K_i] (the first party holds the constant), masked by s.
    for (size_t e = 0; e < un; ++e) o[e] = (party == 0 ? knots : 0) + m.s.data()[e0 + static_cast<i64>(e)];
    for (size_t g0 = 0; g0 < knots; g0 += kKnotGroup) {
      const size_t g = group_deltas(t, g0, sl.deltas);
      const u64 K0 = t.knot_ring[g0];
      for (size_t e = 0; e < un; ++e) sl.base[e] = (xh[e] >> sh) - K0;
      ltz_eval_payload_shifts_range(party, keys, e0, mb, sl.base.data(), sl.deltas.data(), static_cast<int>(g), nullptr, sl.lt.data());
      for (size_t p = 0; p < g; ++p)
        for (size_t e = 0; e < un; ++e) o[e] -= sl.lt[p * un + e];
    }
    for (size_t e = 0; e < un; ++e) o[e] &= mask;
  }, WorkKind::dcf_eval_level);
  return out;
}

RingTensor spline_local(int party, const SplineTable& t, SplineMaterial& m, const RingTensor& xhat, const RingTensor& u) {
  check_gate_table(t);
  const int deg = t.degree, W = deg + 1, mbits = spline_index_bits(t);
  const i64 n = xhat.numel();
  if (u.numel() != n) throw std::invalid_argument("spline gate " + t.name + ": " + std::to_string(u.numel()) + " opened indices for " + std::to_string(n) + " elements");
  DpfKeys keys;
  keys.n_bits = mbits;
  keys.width = W;
  keys.count = n;
  keys.bytes = std::move(m.table_keys);
  spline_table_work(t, n);  // counted here, on the party's thread: the blocks' kernels count nothing
  const u64 mask = index_mask(mbits);
  const auto domain = static_cast<size_t>(1) << mbits;
  const size_t pieces = t.pieces.size();
  RingTensor out(xhat.shape());
  const i64 blocks = (n + kTableBlock - 1) / kTableBlock;
  const int slots = static_cast<int>(std::min<i64>(compute_threads(), blocks));
  std::vector<std::vector<u64>> leaves(static_cast<size_t>(slots), std::vector<u64>(static_cast<size_t>(std::min(n, kTableBlock)) * domain * static_cast<size_t>(W)));
  parallel_chunks(blocks, slots, [&](int slot, i64 block) {
    DiscardWorkScope counted_above;
    std::vector<u64>& D = leaves[static_cast<size_t>(slot)];
    const i64 e0 = block * kTableBlock;
    const i64 mb = std::min(kTableBlock, n - e0);
    // D[(e 2^m + y) W + k]: shares of [y = s] r^k, so point u - v gives [i(x) = v] r^k.
    dpf_eval_all_range(party, keys, e0, mb, D.data());
    for (i64 e = 0; e < mb; ++e) {
      const u64 ue = u.data()[e0 + e];
      const u64* De = D.data() + static_cast<size_t>(e) * domain * static_cast<size_t>(W);
      u64 A[6] = {0, 0, 0, 0, 0, 0};  // A[(j,k)]: share of c_j r^k
      for (size_t v = 0; v < pieces; ++v) {
        const u64* d = De + ((ue - v) & mask) * static_cast<size_t>(W);
        const auto& c = t.coef[v];
        for (int j = 0; j <= deg; ++j) {
          const u64 cj = c[static_cast<size_t>(j)];
          for (int k = 0; k <= j; ++k) A[term_index(j, k)] += cj * d[k];
        }
      }
      // out = sum_j sum_k C(j,k) (-1)^k x^^(j-k) c_j r^k.
      const u64 x = xhat.data()[e0 + e];
      const u64 xpow[3] = {1, x, x * x};
      u64 acc = 0;
      for (int j = 0; j <= deg; ++j)
        for (int k = 0; k <= j; ++k) {
          const u64 binom = (j == 2 && k == 1) ? 2 : 1;
          const u64 term = binom * xpow[j - k] * A[term_index(j, k)];
          acc += (k % 2) ? u64{0} - term : term;
        }
      out.data()[e0 + e] = acc;
    }
  }, WorkKind::dcf_eval_level);
  return out;
}

}  // namespace marill
