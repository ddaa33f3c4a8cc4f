// Tensors over the ring Z_2^64 (uint64, wrap-around arithmetic) and the local ops on them.
//
// A RingTensor is either real (holds numel() values) or *phantom* (carries its shape only).
// Every op here accepts phantom inputs and returns a phantom result of the right shape, so
// protocol code runs unchanged in phantom mode (DESIGN.md: mode) and in the dealer's keygen.
#pragma once

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace marill {

using u64 = std::uint64_t;
using i64 = std::int64_t;
using Shape = std::vector<i64>;

// The low `bits` bits set (all 64 for bits >= 64).
inline u64 low_bits_mask(int bits) { return bits >= 64 ? ~u64{0} : (u64{1} << bits) - 1; }

std::string shape_str(const Shape& s);  // "128x256x256"
i64 shape_numel(const Shape& s);

class RingTensor {
 public:
  RingTensor() = default;
  // Zero-filled real tensor.
  explicit RingTensor(Shape shape);
  RingTensor(Shape shape, std::vector<u64> values);
  static RingTensor phantom(Shape shape);
  static RingTensor scalar(u64 v) { return RingTensor({1}, {v}); }

  const Shape& shape() const { return shape_; }
  i64 numel() const { return numel_; }
  i64 dim(int i) const;  // negative i counts from the back
  int rank() const { return static_cast<int>(shape_.size()); }
  bool is_phantom() const { return phantom_; }
  // False only for a default-constructed tensor, which holds no tensor at all. A rank-0 tensor also
  // has shape {} but holds one value (numel 1); shape_numel({}) is 1, so only the default has
  // shape {} with numel 0.
  bool defined() const { return numel_ != 0 || !shape_.empty(); }

  u64* data() { return values_.data(); }
  const u64* data() const { return values_.data(); }
  u64& operator[](i64 i) { return values_[static_cast<size_t>(i)]; }
  u64 operator[](i64 i) const { return values_[static_cast<size_t>(i)]; }
  const std::vector<u64>& values() const { return values_; }
  std::vector<u64>& values() { return values_; }

  // Same values, new shape with equal numel (throws std::invalid_argument otherwise).
  RingTensor reshaped(Shape shape) const;

 private:
  Shape shape_;
  i64 numel_ = 0;
  std::vector<u64> values_;
  bool phantom_ = false;
};

std::string describe_shape(const RingTensor& t);  // shape_str of its shape, or "empty (default tensor)"

// Throws std::invalid_argument naming `what` when the shapes or the element counts differ (a default
// tensor and a rank-0 one both have shape {}: only the counts, 0 and 1, tell them apart).
void require_same_shape(const RingTensor& a, const RingTensor& b, const char* what);

// ---- element-wise (same shape; phantom in -> phantom out) ----
RingTensor add(const RingTensor& a, const RingTensor& b);
RingTensor sub(const RingTensor& a, const RingTensor& b);
RingTensor neg(const RingTensor& a);
RingTensor mul_elem(const RingTensor& a, const RingTensor& b);
RingTensor scale(const RingTensor& a, u64 k);
RingTensor add_scalar(const RingTensor& a, u64 k);
void add_inplace(RingTensor& a, const RingTensor& b);
void sub_inplace(RingTensor& a, const RingTensor& b);
// Arithmetic (sign-extending) right shift of each value read as two's complement.
RingTensor shift_right_arith(const RingTensor& a, int bits);
RingTensor shift_right_logical(const RingTensor& a, int bits);
RingTensor shift_left(const RingTensor& a, int bits);

// ---- broadcasting helpers used by layers ----
// a (..., n) + row (n): adds the same row to every row of a.
RingTensor add_row(const RingTensor& a, const RingTensor& row);
// a (..., n) * col (...,1) broadcast over the last axis.
RingTensor mul_col(const RingTensor& a, const RingTensor& col);

// ---- matrix products over Z_2^64 (see ring_matmul.h for the kernel) ----
// a (m,k) x b (k,n) -> (m,n); a (B,m,k) x b (B,k,n) -> (B,m,n); a (B,m,k) x b (k,n) -> (B,m,n).
RingTensor matmul(const RingTensor& a, const RingTensor& b);

// ---- shape ops (pure data movement) ----
RingTensor transpose_last2(const RingTensor& a);            // (..., m, n) -> (..., n, m)
RingTensor permute(const RingTensor& a, const std::vector<int>& perm);
// a's elements at flat positions idx, as a tensor of shape `out`; and back: zeros of shape `out` with
// a's elements at idx. Phantom in, phantom out (idx may then be empty).
RingTensor gather_flat(const RingTensor& a, const std::vector<i64>& idx, const Shape& out);
RingTensor scatter_flat(const RingTensor& a, const std::vector<i64>& idx, const Shape& out);
RingTensor slice(const RingTensor& a, int axis, i64 begin, i64 end);  // [begin, end)
RingTensor concat(const std::vector<RingTensor>& parts, int axis);
RingTensor sum_last(const RingTensor& a);                  // (..., n) -> (..., 1)
RingTensor broadcast_last(const RingTensor& a, i64 n);     // (..., 1) -> (..., n)
// How a flat tensor splits into rows of consecutive elements: row r holds
// min(cap, first + r % period) of them. Uniform rows of n: {rows, n, 1, n}; the kept scores of
// causal rows (query q sees offset + q + 1 keys of tk): {rows, offset + 1, tq, tk}. Closed form, so
// a phantom run describes millions of rows in 32 bytes.
struct RowLengths {
  i64 rows = 0, first = 0, period = 1, cap = 0;
  static RowLengths uniform(i64 rows, i64 n) { return {rows, n, 1, n}; }
  i64 operator[](i64 r) const { return std::min(cap, first + r % period); }
  i64 total() const;  // elements in all rows
  // Throws std::invalid_argument unless every row holds at least one element.
  void check(const char* who) const;
};
// y (R values, any shape) with y[r] repeated lengths[r] times, flat: (lengths.total()).
RingTensor repeat_rows(const RingTensor& y, const RowLengths& lengths);
RingTensor gather_rows(const RingTensor& a, const std::vector<i64>& rows);  // (R, C) -> (len, C)

}  // namespace marill
