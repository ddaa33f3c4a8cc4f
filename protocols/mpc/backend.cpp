#include "protocols/mpc/backend.h"
#include "protocols/fss/spline.h"
#include "protocols/ring/work_meter.h"

#include <stdexcept>

namespace marill {

namespace {
// 3pc shares carry a second component; the other settings leave s1 a default (undefined) tensor.
// Not rank() > 0: a share of a rank-0 tensor has rank 0 and still has its second component.
bool has_s1(const Shared& a) { return a.s1.defined(); }
}  // namespace

void Backend::require_same(const Shared& a, const Shared& b, const char* what) const {
  require_same_shape(a.s0, b.s0, what);
}

Shared Backend::constant(const RingTensor& value) {
  Shared z;
  z.s0 = phantom() ? RingTensor::phantom(value.shape()) : RingTensor(value.shape());
  if (setting() == Setting::three_pc) z.s1 = z.s0;
  add_public_inplace(z, value);
  return z;
}

Shared Backend::map(const Shared& a, const std::function<RingTensor(const RingTensor&)>& f) {
  Shared out;
  out.s0 = f(a.s0);
  if (has_s1(a)) out.s1 = f(a.s1);
  return out;
}

namespace {
// Applies a component-wise ring op to two sharings of the same shape.
template <class F>
Shared zip_components(const Shared& a, const Shared& b, F f) {
  Shared out;
  out.s0 = f(a.s0, b.s0);
  if (has_s1(a) || has_s1(b)) out.s1 = f(a.s1, b.s1);  // one without s1: f's shape check refuses it
  return out;
}
}  // namespace

Shared Backend::add(const Shared& a, const Shared& b) {
  require_same(a, b, "add");
  return zip_components(a, b, [](const RingTensor& x, const RingTensor& y) { return marill::add(x, y); });
}

Shared Backend::sub(const Shared& a, const Shared& b) {
  require_same(a, b, "sub");
  return zip_components(a, b, [](const RingTensor& x, const RingTensor& y) { return marill::sub(x, y); });
}

Shared Backend::neg(const Shared& a) { return map(a, [](const RingTensor& t) { return marill::neg(t); }); }

Shared Backend::add_public(const Shared& a, const RingTensor& c) {
  require_same_shape(a.s0, c, "add_public");
  Shared out = a;
  out.prepared.reset();  // the value changes: set-up state no longer matches it
  add_public_inplace(out, c);
  return out;
}

Shared Backend::add_scalar(const Shared& a, u64 c) {
  RingTensor t = phantom() ? RingTensor::phantom(a.shape()) : RingTensor(a.shape(), std::vector<u64>(static_cast<size_t>(a.numel()), c));
  return add_public(a, t);
}

Shared Backend::mul_public(const Shared& a, const RingTensor& c) {
  require_same_shape(a.s0, c, "mul_public");
  return map(a, [&](const RingTensor& t) { return mul_elem(t, c); });
}

Shared Backend::scale(const Shared& a, u64 k) {
  return map(a, [k](const RingTensor& t) { return marill::scale(t, k); });
}

Shared Backend::matmul_public(const Shared& x, const RingTensor& w) {
  if (w.rank() != 2) throw std::invalid_argument("matmul_public: weight must be (k,n), got " + shape_str(w.shape()));
  return map(x, [&](const RingTensor& t) { return marill::matmul(t, w); });
}

Shared Backend::matmul_public_left(const RingTensor& w, const Shared& x) {
  return map(x, [&](const RingTensor& t) { return marill::matmul(w, t); });
}

Shared Backend::concat(const std::vector<Shared>& parts, int axis) {
  if (parts.empty()) throw std::invalid_argument("concat: no parts");
  std::vector<RingTensor> c0, c1;
  for (const auto& p : parts) {
    c0.push_back(p.s0);
    if (has_s1(p)) c1.push_back(p.s1);
  }
  Shared out;
  out.s0 = marill::concat(c0, axis);
  if (!c1.empty()) out.s1 = marill::concat(c1, axis);
  return out;
}

Shared Backend::mul_trunc(const Shared& a, const Shared& b) { return trunc(mul(a, b), frac_bits()); }

std::vector<Shared> Backend::matmul_many(const std::vector<std::pair<Shared, Shared>>& pairs) {
  std::vector<Shared> out;
  for (const auto& [a, b] : pairs) out.push_back(matmul(a, b));
  return out;
}
Shared Backend::matmul_trunc(const Shared& a, const Shared& b) { return trunc(matmul(a, b), frac_bits()); }

Shared Backend::select(const Shared& bit, const Shared& a, const Shared& b) {
  require_same(a, b, "select");
  Shared diff = sub(a, b);
  Shared bb = bit;
  if (bit.shape() != a.shape()) {
    if (bit.shape().empty() || bit.shape().back() != 1 || bit.numel() * a.shape().back() != a.numel())
      throw std::invalid_argument("select: condition " + shape_str(bit.shape()) + " does not broadcast to " + shape_str(a.shape()));
    i64 n = a.shape().back();
    bb = map(bit, [n](const RingTensor& t) { return broadcast_last(t, n); });
  }
  return add(b, mul(bb, diff));
}

Shared Backend::spline(const Shared& x, const SplineTable& t) {
  OpScope op(ledger(), "spline");
  check_spline(t);
  const Shape shape = x.shape();
  const i64 n = x.numel(), K = static_cast<i64>(t.knots.size()), m = K + 1, d = t.degree;
  Shared flat = map(x, [n](const RingTensor& v) { return v.reshaped({1, n}); });
  // Comparisons on floor(x / 2^g) or one more, as the FSS gate sees it (protocols/fss/spline.h).
  Shared coarse = t.cmp_shift > 0 ? trunc(flat, t.cmp_shift) : flat;
  Shared lt = ltz_knots(coarse, t.knot_ring, t.cmp_bits);  // (K, n): [x < K_i]
  // c_j = C[m-1][j] - sum_i [x < K_i] (C[i+1][j] - C[i][j]): rows j = 0..d, (d+1, n).
  RingTensor delta = phantom() ? RingTensor::phantom({d + 1, K}) : RingTensor({d + 1, K});
  RingTensor last = phantom() ? RingTensor::phantom({d + 1, n}) : RingTensor({d + 1, n});
  count_work(WorkKind::ring_elem, (d + 1) * n);  // filling `last`, real runs only
  if (!phantom()) {
    for (i64 j = 0; j <= d; ++j) {
      for (i64 i = 0; i < K; ++i) delta.data()[j * K + i] = t.coef[static_cast<size_t>(i + 1)][static_cast<size_t>(j)] - t.coef[static_cast<size_t>(i)][static_cast<size_t>(j)];
      std::fill(last.data() + j * n, last.data() + (j + 1) * n, t.coef[static_cast<size_t>(m - 1)][static_cast<size_t>(j)]);
    }
  }
  Shared c = add_public(neg(matmul_public_left(delta, lt)), last);
  auto row = [&](const Shared& a, i64 j) { return map(a, [j, n](const RingTensor& v) { return slice(v, 0, j, j + 1); }); };
  Shared out;
  if (d == 3) {  // Horner's rule, a truncation after each product (spline.h: the cubic form)
    out = row(c, 3);
    for (i64 j = 2; j >= 0; --j) out = add(trunc(mul(out, flat), j == 1 ? t.in_frac + t.hi_scale - t.scale : t.in_frac), row(c, j));
  } else if (d == 2) {
    Shared prod = mul(concat({row(c, 1), row(c, 2)}, 0), concat({flat, square(flat)}, 0));
    out = add(row(c, 0), add(row(prod, 0), row(prod, 1)));
  } else {
    out = add(row(c, 0), mul(row(c, 1), flat));
  }
  if (t.scale > t.out_frac) out = trunc(out, t.scale - t.out_frac);
  return map(out, [&shape](const RingTensor& v) { return v.reshaped(shape); });
}

Shared Backend::ltz_knots(const Shared& x, const std::vector<u64>& knots, int bits) {
  const i64 n = x.numel();
  const Shared flat = map(x, [n](const RingTensor& v) { return v.reshaped({1, n}); });
  std::vector<Shared> diffs;
  for (u64 k : knots) diffs.push_back(add_scalar(flat, u64{0} - k));
  return ltz(concat(diffs, 0), bits);
}

u64 matmul_macs(const Shape& a, const Shape& b) {
  if (a.empty() || b.empty()) return 0;
  return static_cast<u64>(shape_numel(a)) * static_cast<u64>(b.back());
}

const char* visibility_name(Visibility v) {
  switch (v) {
    case Visibility::public_value: return "public";
    case Visibility::shared: return "shared";
    case Visibility::private_value: return "private";
  }
  return "?";
}

void require_weight_matrix(const Shared& w) {
  if (w.shape().size() != 2) throw std::invalid_argument("prepare_weight: weight must be (k,n), got " + shape_str(w.shape()));
}

PrivateWeight Backend::setup_private_weight(const Private& w) {
  if (w.shape().size() != 2) throw std::invalid_argument("private weight must be (k,n), got " + shape_str(w.shape()));
  PrivateWeight out;
  out.owner = w.owner;
  out.shape = w.shape();
  out.frac_bits = w.frac_bits;
  out.shares = prepare_weight(input(w.owner, w.value));
  return out;
}

void require_weight_set_up(const PrivateWeight& w) {
  if (w.empty()) throw std::invalid_argument("mmul_sv: no private weight (set up with setup_private_weight)");
}

Shared Backend::mmul_sv(const Shared& x, const PrivateWeight& w) {
  require_weight_set_up(w);
  return matmul(x, w.shares);
}

std::vector<Shared> Backend::mmul_sv_many(const std::vector<std::pair<Shared, const PrivateWeight*>>& products) {
  std::vector<std::pair<Shared, Shared>> pairs;
  pairs.reserve(products.size());
  for (const auto& [x, w] : products) {
    if (!w || w->empty()) throw std::invalid_argument("mmul_sv_many: no private weight (set up with setup_private_weight)");
    pairs.emplace_back(x, w->shares);
  }
  return matmul_many(pairs);
}

Shared Backend::mul_rows(const Shared& x, const Shared& y, const RowLengths& lengths) {
  require_rows(x, y, lengths);
  const Shape& s = x.shape();
  return mul(x, map(y, [&](const RingTensor& t) { return repeat_rows(t, lengths).reshaped(s); }));
}

namespace {
RowLengths column_rows(const Shared& x, const Shared& y) {
  const Shape& xs = x.shape();
  Shape want = xs;
  if (!want.empty()) want.back() = 1;
  if (xs.empty() || y.shape() != want) throw std::invalid_argument("mul_cols: want x (..., C) and y (..., 1), got " + shape_str(xs) + " and " + shape_str(y.shape()));
  return RowLengths::uniform(y.numel(), xs.back());
}
}  // namespace

Shared Backend::mul_cols(const Shared& x, const Shared& y) { return mul_rows(x, y, column_rows(x, y)); }
Shared Backend::mul_cols_trunc(const Shared& x, const Shared& y, int bits) { return mul_rows_trunc(x, y, column_rows(x, y), bits); }

Shared Backend::negative_part(const Shared& x, int bits, int low) { return mul(ltz(x, bits, low), x); }

namespace {
void require_rows_matrix(const Shared& v) {
  if (v.shape().size() != 2) throw std::invalid_argument("sum_squares: want (R, C), got " + shape_str(v.shape()));
}
}  // namespace

Shared Backend::sum_squares(const Shared& v) {
  require_rows_matrix(v);
  const i64 R = v.shape()[0], C = v.shape()[1];
  Shared a = map(v, [&](const RingTensor& t) { return t.reshaped({R, 1, C}); });
  Shared b = map(v, [&](const RingTensor& t) { return t.reshaped({R, C, 1}); });
  return map(matmul(a, b), [&](const RingTensor& t) { return t.reshaped({R, 1}); });
}

Shared sum_squares_by_square(Backend& be, const Shared& v) {
  require_rows_matrix(v);
  return be.map(be.square(v), [](const RingTensor& t) { return sum_last(t); });
}

void require_rows(const Shared& x, const Shared& y, const RowLengths& lengths) {
  lengths.check("mul_rows");
  if (x.numel() != lengths.total() || y.numel() != lengths.rows)
    throw std::invalid_argument("mul_rows: x " + shape_str(x.shape()) + " and y " + shape_str(y.shape()) + " for " +
                                std::to_string(lengths.rows) + " rows of " + std::to_string(lengths.total()) + " elements in all");
}

std::vector<Shared> Backend::mmul_sv_x(const Shared& x, const std::vector<const PrivateWeight*>& weights) {
  std::vector<std::pair<Shared, const PrivateWeight*>> products;
  for (const PrivateWeight* w : weights) products.emplace_back(x, w);
  return mmul_sv_many(products);
}

namespace {
void require_rows(const Shared& cache, const Shared& rows) {
  const Shape& r = rows.shape();
  if (r.size() < 2) throw std::invalid_argument("append_rows: rows must be (.., T, n), got " + shape_str(r));
  if (!cache.s0.defined()) return;
  const Shape& c = cache.shape();
  Shape c_rest = c, r_rest = r;
  if (c.size() == r.size()) c_rest[c.size() - 2] = r_rest[r.size() - 2] = 0;
  if (c_rest != r_rest) throw std::invalid_argument("append_rows: rows " + shape_str(r) + " do not extend " + shape_str(c));
}

Shared cache_operand(Backend& be, const Shared& cache, bool transposed) {
  if (!transposed) return cache;
  return be.map(cache, [](const RingTensor& r) { return transpose_last2(r); });
}
}  // namespace

Shared Backend::append_rows(const Shared& cache, const Shared& rows) {
  require_rows(cache, rows);
  if (!cache.s0.defined()) {
    Shared out = rows;
    out.prepared.reset();
    return out;
  }
  return concat({cache, rows}, static_cast<int>(rows.shape().size()) - 2);
}

Shared Backend::matmul_cache(const Shared& x, Shared& cache, bool transposed) {
  return matmul(x, cache_operand(*this, cache, transposed));
}

Shared Backend::matmul_cache_trunc(const Shared& x, Shared& cache, bool transposed) {
  return matmul_trunc(x, cache_operand(*this, cache, transposed));
}

Shared Backend::matmul_cache_trunc_kept(const Shared& x, Shared& cache, bool transposed, const OutputSubset& kept) {
  const Shared full = matmul_cache(x, cache, transposed);
  const Shape shape = full.shape();
  const Shared part = map(full, [&](const RingTensor& t) { return gather_flat(t, kept.pos, {kept.count}); });
  return map(trunc(part, frac_bits()), [&](const RingTensor& t) { return scatter_flat(t, kept.pos, shape); });
}

Shared Backend::matmul_cache_trunc_sparse(const Shared& x, Shared& cache, bool transposed, const OutputSubset&) {
  return matmul_cache_trunc(x, cache, transposed);
}

void check_ltz_bits(int bits, int low) {
  if (bits < 3 || bits > 64) throw std::invalid_argument("ltz: bits must be in [3, 64], got " + std::to_string(bits));
  if (low < 0 || low > bits - 3)
    throw std::invalid_argument("ltz: low bits must be in [0, " + std::to_string(bits - 3) + "] for " + std::to_string(bits) + " bits, got " + std::to_string(low));
}

RingTensor public_tensor(const Backend& be, const std::vector<double>& values, const Shape& shape) {
  if (be.phantom()) return RingTensor::phantom(shape);
  return be.fxp().encode(values, shape);
}

}  // namespace marill
