// Bit-sliced binary tensors: `planes` bit planes of n elements each, plane j packing bit j of every
// element into ceil(n/64) words. Binary protocols (3pc comparisons) AND whole planes at once
// and send the planes back to back, ceil(planes * n / 8) bytes (packed()).
#pragma once

#include <cstdint>
#include <vector>

#include "protocols/ring/ring.h"

namespace marill {

struct Bits {
  i64 n = 0;       // elements per plane
  int planes = 0;
  bool phantom = false;
  std::vector<u64> w;  // planes * words() words, plane-major

  i64 words() const { return (n + 63) / 64; }
  u64* plane(int j) { return w.data() + static_cast<i64>(j) * words(); }
  const u64* plane(int j) const { return w.data() + static_cast<i64>(j) * words(); }
  u64 bytes() const { return static_cast<u64>(planes) * static_cast<u64>(words()) * 8; }
  u64 packed_bytes() const { return (static_cast<u64>(planes) * static_cast<u64>(n) + 7) / 8; }

  static Bits zeros(i64 n, int planes, bool phantom);
  // Planes [first, first+count) of the values' bits (value bit j -> plane j - first).
  static Bits from_ring(const RingTensor& t, int first, int count);
  // Element e of plane j as a ring tensor of 0/1 integers, shaped `shape`.
  RingTensor plane_to_ring(int j, const Shape& shape) const;
  // The inverse of from_ring(t, 0, planes): plane j gives bit j of each value, higher bits 0.
  RingTensor to_ring(const Shape& shape) const;
  // The planes' n bits each, back to back without padding (plane j from bit j n): packed_bytes().
  std::vector<std::uint8_t> packed() const;
  // The inverse of packed(); `bytes` must hold packed_bytes() of (n, planes).
  static Bits from_packed(const std::vector<std::uint8_t>& bytes, i64 n, int planes);
};

class Prg;
Bits random_bits(Prg& prg, i64 n, int planes, bool phantom);  // uniform planes (nothing drawn when phantom)

Bits bits_xor(const Bits& a, const Bits& b);
Bits bits_and(const Bits& a, const Bits& b);
Bits bits_not(const Bits& a);
Bits bits_planes(const Bits& a, int first, int count);  // sub-range of planes
Bits bits_stack(const std::vector<Bits>& parts);        // concatenate planes

}  // namespace marill
