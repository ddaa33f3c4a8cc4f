#include "protocols/ring/ring.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "protocols/ring/ring_matmul.h"
#include "protocols/ring/work_meter.h"

namespace marill {

std::string shape_str(const Shape& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) out += 'x';
    out += std::to_string(s[i]);
  }
  return out.empty() ? "scalar" : out;
}

i64 shape_numel(const Shape& s) {
  i64 n = 1;
  for (i64 d : s) {
    if (d < 0) throw std::invalid_argument("negative dimension in shape " + shape_str(s));
    n *= d;
  }
  return n;
}

// Real and phantom tensors count their buffer alike (work_meter.h): a program creates the same tensors
// in both modes, holding data or not.
RingTensor::RingTensor(Shape shape) : shape_(std::move(shape)) {
  numel_ = shape_numel(shape_);
  count_alloc(numel_);
  values_.assign(static_cast<size_t>(numel_), 0);
}

RingTensor::RingTensor(Shape shape, std::vector<u64> values) : shape_(std::move(shape)), values_(std::move(values)) {
  numel_ = shape_numel(shape_);
  count_alloc(numel_);
  if (static_cast<i64>(values_.size()) != numel_)
    throw std::invalid_argument("RingTensor: " + std::to_string(values_.size()) + " values for shape " +
                                shape_str(shape_));
}

RingTensor RingTensor::phantom(Shape shape) {
  RingTensor t;
  t.shape_ = std::move(shape);
  t.numel_ = shape_numel(t.shape_);
  t.phantom_ = true;
  count_alloc(t.numel_);
  return t;
}

i64 RingTensor::dim(int i) const {
  int r = rank();
  int j = i < 0 ? r + i : i;
  if (j < 0 || j >= r) throw std::out_of_range("dim " + std::to_string(i) + " of shape " + shape_str(shape_));
  return shape_[static_cast<size_t>(j)];
}

RingTensor RingTensor::reshaped(Shape shape) const {
  if (shape_numel(shape) != numel_)
    throw std::invalid_argument("reshape " + shape_str(shape_) + " -> " + shape_str(shape) + ": numel differs");
  count_work(WorkKind::ring_copy, numel_);  // the values are copied
  if (phantom_) return phantom(std::move(shape));
  return RingTensor(std::move(shape), values_);
}

std::string describe_shape(const RingTensor& t) { return t.defined() ? shape_str(t.shape()) : "empty (default tensor)"; }

void require_same_shape(const RingTensor& a, const RingTensor& b, const char* what) {
  if (a.shape() != b.shape() || a.numel() != b.numel())
    throw std::invalid_argument(std::string(what) + ": shape mismatch " + describe_shape(a) + " vs " + describe_shape(b));
}

namespace {

template <class F>
RingTensor zip(const RingTensor& a, const RingTensor& b, const char* what, F f) {
  require_same_shape(a, b, what);
  count_work(WorkKind::ring_elem, a.numel());
  if (a.is_phantom() || b.is_phantom()) return RingTensor::phantom(a.shape());
  RingTensor out(a.shape());
  const u64* pa = a.data();
  const u64* pb = b.data();
  u64* po = out.data();
  for (i64 i = 0, n = a.numel(); i < n; ++i) po[i] = f(pa[i], pb[i]);
  return out;
}

template <class F>
RingTensor map(const RingTensor& a, F f) {
  if (!a.defined()) return RingTensor();  // no tensor in, none out (not a zero rank-0 tensor)
  count_work(WorkKind::ring_elem, a.numel());
  if (a.is_phantom()) return RingTensor::phantom(a.shape());
  RingTensor out(a.shape());
  const u64* pa = a.data();
  u64* po = out.data();
  for (i64 i = 0, n = a.numel(); i < n; ++i) po[i] = f(pa[i]);
  return out;
}

// Strides of a row-major shape.
std::vector<i64> strides_of(const Shape& s) {
  std::vector<i64> st(s.size(), 1);
  for (int i = static_cast<int>(s.size()) - 2; i >= 0; --i) st[static_cast<size_t>(i)] = st[static_cast<size_t>(i) + 1] * s[static_cast<size_t>(i) + 1];
  return st;
}

int norm_axis(int axis, int rank, const char* what) {
  int a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw std::invalid_argument(std::string(what) + ": axis " + std::to_string(axis) + " out of range for rank " + std::to_string(rank));
  return a;
}

}  // namespace

RingTensor add(const RingTensor& a, const RingTensor& b) { return zip(a, b, "add", [](u64 x, u64 y) { return x + y; }); }
RingTensor sub(const RingTensor& a, const RingTensor& b) { return zip(a, b, "sub", [](u64 x, u64 y) { return x - y; }); }
RingTensor mul_elem(const RingTensor& a, const RingTensor& b) { return zip(a, b, "mul", [](u64 x, u64 y) { return x * y; }); }
RingTensor neg(const RingTensor& a) { return map(a, [](u64 x) { return u64{0} - x; }); }
RingTensor scale(const RingTensor& a, u64 k) { return map(a, [k](u64 x) { return x * k; }); }
RingTensor add_scalar(const RingTensor& a, u64 k) { return map(a, [k](u64 x) { return x + k; }); }

void add_inplace(RingTensor& a, const RingTensor& b) {
  require_same_shape(a, b, "add");
  count_work(WorkKind::ring_elem, a.numel());
  if (a.is_phantom() || b.is_phantom()) { a = RingTensor::phantom(a.shape()); return; }
  for (i64 i = 0, n = a.numel(); i < n; ++i) a[i] += b[i];
}

void sub_inplace(RingTensor& a, const RingTensor& b) {
  require_same_shape(a, b, "sub");
  count_work(WorkKind::ring_elem, a.numel());
  if (a.is_phantom() || b.is_phantom()) { a = RingTensor::phantom(a.shape()); return; }
  for (i64 i = 0, n = a.numel(); i < n; ++i) a[i] -= b[i];
}

RingTensor shift_right_arith(const RingTensor& a, int bits) {
  return map(a, [bits](u64 x) { return static_cast<u64>(static_cast<i64>(x) >> bits); });
}
RingTensor shift_right_logical(const RingTensor& a, int bits) { return map(a, [bits](u64 x) { return x >> bits; }); }
RingTensor shift_left(const RingTensor& a, int bits) { return map(a, [bits](u64 x) { return x << bits; }); }

RingTensor add_row(const RingTensor& a, const RingTensor& row) {
  i64 n = a.dim(-1);
  if (row.numel() != n) throw std::invalid_argument("add_row: row of " + std::to_string(row.numel()) + " for last dim " + std::to_string(n));
  count_work(WorkKind::ring_elem, a.numel());
  if (a.is_phantom() || row.is_phantom()) return RingTensor::phantom(a.shape());
  RingTensor out = a;
  for (i64 i = 0; i < a.numel(); ++i) out[i] += row[i % n];
  return out;
}

RingTensor mul_col(const RingTensor& a, const RingTensor& col) {
  i64 n = a.dim(-1);
  if (col.numel() * n != a.numel())
    throw std::invalid_argument("mul_col: column " + shape_str(col.shape()) + " does not broadcast over " + shape_str(a.shape()));
  count_work(WorkKind::ring_elem, a.numel());
  if (a.is_phantom() || col.is_phantom()) return RingTensor::phantom(a.shape());
  RingTensor out(a.shape());
  for (i64 i = 0; i < a.numel(); ++i) out[i] = a[i] * col[i / n];
  return out;
}

RingTensor matmul(const RingTensor& a, const RingTensor& b) {
  // (m,k)x(k,n) | (B,m,k)x(B,k,n) | (B,m,k)x(k,n)
  if (a.rank() < 2 || b.rank() < 2)
    throw std::invalid_argument("matmul: needs rank >= 2, got " + shape_str(a.shape()) + " x " + shape_str(b.shape()));
  i64 m = a.dim(-2), k = a.dim(-1), k2 = b.dim(-2), n = b.dim(-1);
  if (k != k2) throw std::invalid_argument("matmul: inner dimensions differ: " + shape_str(a.shape()) + " x " + shape_str(b.shape()));
  i64 batch = a.numel() / (m * k == 0 ? 1 : m * k);
  if (m * k == 0) batch = 1;
  Shape out_shape(a.shape().begin(), a.shape().end() - 2);
  out_shape.push_back(m);
  out_shape.push_back(n);
  bool b_batched = b.rank() > 2;
  if (b_batched) {
    Shape ab(a.shape().begin(), a.shape().end() - 2), bb(b.shape().begin(), b.shape().end() - 2);
    if (ab != bb) throw std::invalid_argument("matmul: batch dimensions differ: " + shape_str(a.shape()) + " x " + shape_str(b.shape()));
  }
  if (a.is_phantom() || b.is_phantom()) {
    // The work of the ring_gemm calls below (which count themselves in a real product).
    if (!b_batched) count_gemm_work(batch * m, k, n);
    else for (i64 i = 0; i < batch; ++i) count_gemm_work(m, k, n);
    return RingTensor::phantom(out_shape);
  }
  RingTensor out(out_shape);
  if (!b_batched) {
    // Fold the batch into rows: one big GEMM is faster than many small ones.
    ring_gemm(a.data(), b.data(), out.data(), batch * m, k, n);
  } else {
    for (i64 i = 0; i < batch; ++i) ring_gemm(a.data() + i * m * k, b.data() + i * k * n, out.data() + i * m * n, m, k, n);
  }
  return out;
}

RingTensor transpose_last2(const RingTensor& a) {
  int r = a.rank();
  if (r < 2) throw std::invalid_argument("transpose_last2: rank < 2: " + shape_str(a.shape()));
  std::vector<int> perm(static_cast<size_t>(r));
  for (int i = 0; i < r; ++i) perm[static_cast<size_t>(i)] = i;
  std::swap(perm[static_cast<size_t>(r - 1)], perm[static_cast<size_t>(r - 2)]);
  return permute(a, perm);
}

RingTensor gather_flat(const RingTensor& a, const std::vector<i64>& idx, const Shape& out) {
  if (a.is_phantom()) return RingTensor::phantom(out);
  RingTensor r(out);
  if (static_cast<i64>(idx.size()) != r.numel()) throw std::invalid_argument("gather_flat: " + std::to_string(idx.size()) + " positions for " + shape_str(out));
  for (size_t i = 0; i < idx.size(); ++i) {
    if (idx[i] < 0 || idx[i] >= a.numel()) throw std::invalid_argument("gather_flat: position " + std::to_string(idx[i]) + " outside " + shape_str(a.shape()));
    r[static_cast<i64>(i)] = a[idx[i]];
  }
  return r;
}

RingTensor scatter_flat(const RingTensor& a, const std::vector<i64>& idx, const Shape& out) {
  if (a.is_phantom()) return RingTensor::phantom(out);
  if (static_cast<i64>(idx.size()) != a.numel()) throw std::invalid_argument("scatter_flat: " + std::to_string(idx.size()) + " positions for " + shape_str(a.shape()));
  RingTensor r(out);
  for (size_t i = 0; i < idx.size(); ++i) {
    if (idx[i] < 0 || idx[i] >= r.numel()) throw std::invalid_argument("scatter_flat: position " + std::to_string(idx[i]) + " outside " + shape_str(out));
    r[idx[i]] = a[static_cast<i64>(i)];
  }
  return r;
}

RingTensor permute(const RingTensor& a, const std::vector<int>& perm) {
  int r = a.rank();
  if (static_cast<int>(perm.size()) != r) throw std::invalid_argument("permute: perm size differs from rank of " + shape_str(a.shape()));
  std::vector<bool> seen(static_cast<size_t>(r), false);
  Shape out_shape(static_cast<size_t>(r));
  for (int i = 0; i < r; ++i) {
    int p = perm[static_cast<size_t>(i)];
    if (p < 0 || p >= r || seen[static_cast<size_t>(p)]) throw std::invalid_argument("permute: not a permutation");
    seen[static_cast<size_t>(p)] = true;
    out_shape[static_cast<size_t>(i)] = a.shape()[static_cast<size_t>(p)];
  }
  count_work(WorkKind::ring_copy, a.numel());
  if (a.is_phantom()) return RingTensor::phantom(out_shape);
  RingTensor out(out_shape);
  auto in_st = strides_of(a.shape());
  // out index (i_0..i_{r-1}) reads in index with in axis perm[j] = i_j.
  std::vector<i64> src_st(static_cast<size_t>(r));
  for (int j = 0; j < r; ++j) src_st[static_cast<size_t>(j)] = in_st[static_cast<size_t>(perm[static_cast<size_t>(j)])];
  std::vector<i64> idx(static_cast<size_t>(r), 0);
  i64 src = 0;
  const i64 n = out.numel();
  const i64 inner = r ? out_shape.back() : 1;
  const i64 inner_st = r ? src_st.back() : 1;
  for (i64 o = 0; o < n; o += inner) {
    for (i64 t = 0; t < inner; ++t) out[o + t] = a[src + t * inner_st];
    // advance the outer multi-index (all but the last axis)
    for (int j = r - 2; j >= 0; --j) {
      size_t ju = static_cast<size_t>(j);
      if (++idx[ju] < out_shape[ju]) { src += src_st[ju]; break; }
      src -= src_st[ju] * (out_shape[ju] - 1);
      idx[ju] = 0;
    }
  }
  return out;
}

RingTensor slice(const RingTensor& a, int axis, i64 begin, i64 end) {
  int ax = norm_axis(axis, a.rank(), "slice");
  i64 len = a.shape()[static_cast<size_t>(ax)];
  if (begin < 0 || end > len || begin > end)
    throw std::invalid_argument("slice [" + std::to_string(begin) + "," + std::to_string(end) + ") out of range for axis " +
                                std::to_string(ax) + " of " + shape_str(a.shape()));
  Shape out_shape = a.shape();
  out_shape[static_cast<size_t>(ax)] = end - begin;
  count_work(WorkKind::ring_copy, shape_numel(out_shape));
  if (a.is_phantom()) return RingTensor::phantom(out_shape);
  RingTensor out(out_shape);
  i64 outer = 1, inner = 1;
  for (int i = 0; i < ax; ++i) outer *= a.shape()[static_cast<size_t>(i)];
  for (int i = ax + 1; i < a.rank(); ++i) inner *= a.shape()[static_cast<size_t>(i)];
  i64 w = (end - begin) * inner;
  for (i64 o = 0; o < outer; ++o)
    std::copy(a.data() + (o * len + begin) * inner, a.data() + (o * len + begin) * inner + w, out.data() + o * w);
  return out;
}

RingTensor concat(const std::vector<RingTensor>& parts, int axis) {
  if (parts.empty()) throw std::invalid_argument("concat: no parts");
  int ax = norm_axis(axis, parts[0].rank(), "concat");
  Shape out_shape = parts[0].shape();
  i64 total = 0;
  bool phantom = false;
  for (const auto& p : parts) {
    Shape s = p.shape();
    if (p.rank() != parts[0].rank()) throw std::invalid_argument("concat: ranks differ");
    s[static_cast<size_t>(ax)] = out_shape[static_cast<size_t>(ax)];
    if (s != out_shape) throw std::invalid_argument("concat: shapes " + shape_str(p.shape()) + " and " + shape_str(parts[0].shape()) + " differ off axis");
    total += p.shape()[static_cast<size_t>(ax)];
    phantom = phantom || p.is_phantom();
  }
  out_shape[static_cast<size_t>(ax)] = total;
  count_work(WorkKind::ring_copy, shape_numel(out_shape));
  if (phantom) return RingTensor::phantom(out_shape);
  RingTensor out(out_shape);
  i64 outer = 1, inner = 1;
  for (int i = 0; i < ax; ++i) outer *= out_shape[static_cast<size_t>(i)];
  for (int i = ax + 1; i < static_cast<int>(out_shape.size()); ++i) inner *= out_shape[static_cast<size_t>(i)];
  u64* dst = out.data();
  for (i64 o = 0; o < outer; ++o)
    for (const auto& p : parts) {
      i64 w = p.shape()[static_cast<size_t>(ax)] * inner;
      std::copy(p.data() + o * w, p.data() + (o + 1) * w, dst);
      dst += w;
    }
  return out;
}

RingTensor sum_last(const RingTensor& a) {
  i64 n = a.dim(-1);
  Shape s = a.shape();
  s.back() = 1;
  count_work(WorkKind::ring_copy, a.numel());
  if (a.is_phantom()) return RingTensor::phantom(s);
  RingTensor out(s);
  for (i64 r = 0; r < out.numel(); ++r) {
    u64 acc = 0;
    for (i64 j = 0; j < n; ++j) acc += a[r * n + j];
    out[r] = acc;
  }
  return out;
}

i64 RowLengths::total() const {
  if (period <= 0 || rows <= 0) return 0;
  // Whole periods, then the first rows % period rows of one more.
  auto sum_first = [&](i64 k) {  // rows 0..k-1 of a period
    const i64 grow = std::clamp<i64>(cap - first, 0, k);  // rows below the cap: first, first+1, ...
    return grow * first + grow * (grow - 1) / 2 + (k - grow) * cap;
  };
  return (rows / period) * sum_first(period) + sum_first(rows % period);
}

void RowLengths::check(const char* who) const {
  if (rows < 0 || period < 1 || std::min(first, cap) < 1)
    throw std::invalid_argument(std::string(who) + ": rows of " + std::to_string(std::min(first, cap)) + " elements (" +
                                std::to_string(rows) + " rows, period " + std::to_string(period) + ")");
}

RingTensor repeat_rows(const RingTensor& y, const RowLengths& lengths) {
  lengths.check("repeat_rows");
  const i64 n = lengths.total();
  if (y.numel() != lengths.rows)
    throw std::invalid_argument("repeat_rows: " + std::to_string(y.numel()) + " row values for " + std::to_string(lengths.rows) + " rows");
  count_work(WorkKind::ring_copy, n);
  if (y.is_phantom()) return RingTensor::phantom({n});
  RingTensor out(Shape{n});
  u64* o = out.data();
  for (i64 r = 0; r < lengths.rows; ++r) o = std::fill_n(o, lengths[r], y.data()[r]);
  return out;
}

RingTensor broadcast_last(const RingTensor& a, i64 n) {
  if (a.dim(-1) != 1) throw std::invalid_argument("broadcast_last: last dim must be 1, got " + shape_str(a.shape()));
  Shape s = a.shape();
  s.back() = n;
  count_work(WorkKind::ring_copy, shape_numel(s));
  if (a.is_phantom()) return RingTensor::phantom(s);
  RingTensor out(s);
  for (i64 r = 0; r < a.numel(); ++r)
    for (i64 j = 0; j < n; ++j) out[r * n + j] = a[r];
  return out;
}

RingTensor gather_rows(const RingTensor& a, const std::vector<i64>& rows) {
  if (a.rank() != 2) throw std::invalid_argument("gather_rows: needs (R,C), got " + shape_str(a.shape()));
  i64 R = a.dim(0), C = a.dim(1);
  Shape s{static_cast<i64>(rows.size()), C};
  for (i64 r : rows)
    if (r < 0 || r >= R) throw std::invalid_argument("gather_rows: row " + std::to_string(r) + " out of range " + std::to_string(R));
  count_work(WorkKind::ring_copy, shape_numel(s));
  if (a.is_phantom()) return RingTensor::phantom(s);
  RingTensor out(s);
  for (size_t i = 0; i < rows.size(); ++i) std::copy(a.data() + rows[i] * C, a.data() + (rows[i] + 1) * C, out.data() + static_cast<i64>(i) * C);
  return out;
}

}  // namespace marill
