// Fixed-point codec: a real x is the ring element round(x * 2^s) (two's complement mod 2^64).
//
// Default s = 16 fractional bits (CrypTen's choice). Why: a product of two encodings carries 2s = 32
// fractional bits, leaving 30 integer bits under the 2^62 magnitude bound that our exact truncations
// need (protocols/fss/trunc_mask.h), and softmax weights as small as 1/2048 (b = 2048) still
// keep 5 significant bits.
// SIGMA uses s = 12 with narrower rings; s is a run-time setting (--frac-bits, scenario key).
#pragma once

#include <vector>

#include "protocols/ring/ring.h"

namespace marill {

struct FixedPoint {
  int frac_bits = 16;

  u64 one() const { return u64{1} << frac_bits; }
  u64 encode(double x) const;
  double decode(u64 v) const;
  RingTensor encode(const std::vector<double>& xs, Shape shape) const;
  RingTensor encode(const std::vector<float>& xs, Shape shape) const;
  std::vector<double> decode(const RingTensor& t) const;
};

}  // namespace marill
