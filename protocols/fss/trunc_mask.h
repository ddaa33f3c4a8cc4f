// Truncation with a dealt mask whose MSB is known in shares (used by 2pc-dealer, and by 3pc with
// the helper as the dealer). Parties open c = x' + r with x' = x + 2^62 in [0, 2^63) and hold
// additive shares of t = r >> d and h = MSB(r). Since x' < 2^63, x' + r wraps exactly when
// h AND NOT MSB(c), so
//   x' >> d = (c >> d) - t + 2^(64-d) (1 - MSB(c)) h - borrow,   borrow = [c mod 2^d < r mod 2^d].
// Dropping the borrow leaves floor(x / 2^d) or one more: exact up to one unit, no probabilistic
// wrap error (unlike SecureML/ABY3 local truncation), for |x| < 2^62.
#pragma once

#include <stdexcept>
#include <string>

#include "protocols/ring/ring.h"

namespace marill {

constexpr u64 kTruncOffset = u64{1} << 62;

inline void check_trunc_bits(int d) {
  if (d < 1 || d > 62) throw std::invalid_argument("trunc: bits must be in [1, 62], got " + std::to_string(d));
}

// This party's additive share of x >> d; `first` marks the one party that adds public terms.
inline RingTensor trunc_share(const RingTensor& c, const RingTensor& t, const RingTensor& h, int d, bool first) {
  RingTensor y = neg(t);
  if (y.is_phantom()) return y;
  const u64 K = u64{1} << (64 - d);
  for (i64 e = 0; e < y.numel(); ++e) {
    y[e] += K * (1 - (c[e] >> 63)) * h[e];
    if (first) y[e] += (c[e] >> d) - (kTruncOffset >> d);
  }
  return y;
}

}  // namespace marill
