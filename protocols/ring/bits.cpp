#include "protocols/ring/bits.h"

#include <stdexcept>

#include "protocols/ring/work_meter.h"

namespace marill {

Bits Bits::zeros(i64 n, int planes, bool phantom) {
  Bits b;
  b.n = n;
  b.planes = planes;
  b.phantom = phantom;
  count_alloc(static_cast<i64>(planes) * b.words());
  if (!phantom) b.w.assign(static_cast<size_t>(planes * b.words()), 0);
  return b;
}

Bits Bits::from_ring(const RingTensor& t, int first, int count) {
  Bits b = zeros(t.numel(), count, t.is_phantom());
  count_work(WorkKind::bit_extract, b.n * count);
  if (b.phantom) return b;
  const i64 W = b.words();
  for (i64 e = 0; e < b.n; ++e) {
    u64 v = t[e] >> first;
    const i64 word = e >> 6;
    const u64 bit = u64{1} << (e & 63);
    for (int j = 0; j < count; ++j, v >>= 1)
      if (v & 1) b.w[static_cast<size_t>(j * W + word)] |= bit;
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
