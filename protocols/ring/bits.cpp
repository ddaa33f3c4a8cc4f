#include "protocols/ring/bits.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "protocols/ring/prg.h"
#include "protocols/ring/work_meter.h"

namespace marill {

// The planes as one stream of n-bit runs in little-endian words (the byte order the wire carries).
std::vector<std::uint8_t> Bits::packed() const {
  const u64 total = static_cast<u64>(planes) * static_cast<u64>(n);
  std::vector<u64> out(static_cast<size_t>(total / 64 + 1), 0);
  u64 pos = 0;
  for (int j = 0; j < planes; ++j) {
    const u64* p = plane(j);
    for (i64 i = 0; i < words(); ++i) {
      const int count = static_cast<int>(std::min<i64>(64, n - 64 * i));
      const u64 v = p[i] & low_bits_mask(count);
      const size_t at = static_cast<size_t>(pos / 64);
      const int off = static_cast<int>(pos % 64);
      out[at] |= v << off;
      if (off && off + count > 64) out[at + 1] |= v >> (64 - off);
      pos += static_cast<u64>(count);
    }
  }
  std::vector<std::uint8_t> bytes(packed_bytes());
  std::memcpy(bytes.data(), out.data(), bytes.size());
  return bytes;
}

Bits Bits::from_packed(const std::vector<std::uint8_t>& bytes, i64 n, int planes) {
  Bits b = zeros(n, planes, false);
  if (bytes.size() != b.packed_bytes())
    throw std::invalid_argument("bit planes: " + std::to_string(bytes.size()) + " bytes for " + std::to_string(planes) + " planes of " +
                                std::to_string(n) + " bits, want " + std::to_string(b.packed_bytes()));
  std::vector<u64> in(bytes.size() / 8 + 2, 0);
  std::memcpy(in.data(), bytes.data(), bytes.size());
  u64 pos = 0;
  for (int j = 0; j < planes; ++j) {
    u64* p = b.plane(j);
    for (i64 i = 0; i < b.words(); ++i) {
      const int count = static_cast<int>(std::min<i64>(64, n - 64 * i));
      const size_t at = static_cast<size_t>(pos / 64);
      const int off = static_cast<int>(pos % 64);
      u64 v = in[at] >> off;
      if (off && off + count > 64) v |= in[at + 1] << (64 - off);
      p[i] = v & low_bits_mask(count);
      pos += static_cast<u64>(count);
    }
  }
  return b;
}

Bits Bits::zeros(i64 n, int planes, bool phantom) {
  Bits b;
  b.n = n;
  b.planes = planes;
  b.phantom = phantom;
  count_alloc(static_cast<i64>(planes) * b.words());
  if (!phantom) b.w.assign(static_cast<size_t>(planes * b.words()), 0);
  return b;
}

namespace {
// In place: bit j of a[i] <-> bit i of a[j] (Hacker's Delight 7-3, six rounds of masked swaps).
void transpose64(u64 a[64]) {
  u64 m = 0x00000000FFFFFFFFull;
  for (int j = 32; j != 0; j >>= 1, m ^= (m << j)) {
    for (int k = 0; k < 64; k = ((k | j) + 1) & ~j) {
      const u64 t = ((a[k] >> j) ^ a[k | j]) & m;
      a[k] ^= t << j;
      a[k | j] ^= t;
    }
  }
}
}  // namespace

Bits Bits::from_ring(const RingTensor& t, int first, int count) {
  if (first < 0 || count < 0 || first + count > 64)
    throw std::invalid_argument("from_ring: planes [" + std::to_string(first) + ", " + std::to_string(first + count) + ") of 64-bit values");
  Bits b = zeros(t.numel(), count, t.is_phantom());
  count_work(WorkKind::bit_extract, b.n * count);
  if (b.phantom) return b;
  const i64 W = b.words();
  u64 block[64];
  for (i64 w = 0; w < W; ++w) {
    const i64 e0 = w * 64, m = std::min<i64>(64, b.n - e0);
    for (i64 i = 0; i < 64; ++i) block[i] = i < m ? t[e0 + i] : 0;
    transpose64(block);
    for (int j = 0; j < count; ++j) b.w[static_cast<size_t>(j * W + w)] = block[first + j];
  }
  return b;
}

RingTensor Bits::plane_to_ring(int j, const Shape& shape) const {
  if (shape_numel(shape) != n) throw std::invalid_argument("plane_to_ring: shape " + shape_str(shape) + " for " + std::to_string(n) + " bits");
  count_work(WorkKind::bit_extract, n);
  if (phantom) return RingTensor::phantom(shape);
  RingTensor t(shape);
  const u64* p = plane(j);
  for (i64 e = 0; e < n; ++e) t[e] = (p[e >> 6] >> (e & 63)) & 1;
  return t;
}

RingTensor Bits::to_ring(const Shape& shape) const {
  if (shape_numel(shape) != n) throw std::invalid_argument("to_ring: shape " + shape_str(shape) + " for " + std::to_string(n) + " elements");
  if (planes > 64) throw std::invalid_argument("to_ring: " + std::to_string(planes) + " planes (at most 64)");
  count_work(WorkKind::bit_extract, n * planes);
  if (phantom) return RingTensor::phantom(shape);
  RingTensor t(shape);
  const i64 W = words();
  u64 block[64];
  for (i64 w = 0; w < W; ++w) {
    for (int j = 0; j < 64; ++j) block[j] = j < planes ? plane(j)[w] : 0;
    transpose64(block);
    const i64 e0 = w * 64, m = std::min<i64>(64, n - e0);
    for (i64 i = 0; i < m; ++i) t[e0 + i] = block[i];
  }
  return t;
}

Bits random_bits(Prg& prg, i64 n, int planes, bool phantom) {
  Bits b = Bits::zeros(n, planes, phantom);
  if (phantom)
    count_work(WorkKind::prg_byte, b.bytes());  // what fill() counts in a real run
  else
    prg.fill(b.w.data(), b.w.size());
  return b;
}

namespace {
void require_match(const Bits& a, const Bits& b, const char* what) {
  if (a.n != b.n || a.planes != b.planes)
    throw std::invalid_argument(std::string(what) + ": bit tensors differ (" + std::to_string(a.planes) + "x" +
                                std::to_string(a.n) + " vs " + std::to_string(b.planes) + "x" + std::to_string(b.n) + ")");
}
}  // namespace

Bits bits_xor(const Bits& a, const Bits& b) {
  require_match(a, b, "bits_xor");
  Bits o = Bits::zeros(a.n, a.planes, a.phantom || b.phantom);
  count_work(WorkKind::bit_word, o.planes * o.words());
  if (!o.phantom)
    for (size_t i = 0; i < o.w.size(); ++i) o.w[i] = a.w[i] ^ b.w[i];
  return o;
}

Bits bits_and(const Bits& a, const Bits& b) {
  require_match(a, b, "bits_and");
  Bits o = Bits::zeros(a.n, a.planes, a.phantom || b.phantom);
  count_work(WorkKind::bit_word, o.planes * o.words());
  if (!o.phantom)
    for (size_t i = 0; i < o.w.size(); ++i) o.w[i] = a.w[i] & b.w[i];
  return o;
}

Bits bits_not(const Bits& a) {
  Bits o = Bits::zeros(a.n, a.planes, a.phantom);
  count_work(WorkKind::bit_word, o.planes * o.words());
  if (!o.phantom)
    for (size_t i = 0; i < o.w.size(); ++i) o.w[i] = ~a.w[i];
  return o;
}

Bits bits_planes(const Bits& a, int first, int count) {
  if (first < 0 || count < 0 || first + count > a.planes) throw std::invalid_argument("bits_planes: range out of bounds");
  Bits o = Bits::zeros(a.n, count, a.phantom);
  count_work(WorkKind::bit_word, o.planes * o.words());
  if (!o.phantom) std::copy(a.plane(first), a.plane(first) + count * a.words(), o.w.begin());
  return o;
}

Bits bits_stack(const std::vector<Bits>& parts) {
  if (parts.empty()) throw std::invalid_argument("bits_stack: no parts");
  int planes = 0;
  bool phantom = false;
  for (const auto& p : parts) {
    if (p.n != parts[0].n) throw std::invalid_argument("bits_stack: element counts differ");
    planes += p.planes;
    phantom = phantom || p.phantom;
  }
  Bits o = Bits::zeros(parts[0].n, planes, phantom);
  count_work(WorkKind::bit_word, o.planes * o.words());
  if (!phantom) {
    auto it = o.w.begin();
    for (const auto& p : parts) it = std::copy(p.w.begin(), p.w.end(), it);
  }
  return o;
}

}  // namespace marill
