// Truncation by d bits with a dealt mask whose high part and MSB are known in shares (trunc_mask.h
// has the identity and its error bound): open c = x + 2^62 + r, then each party computes its share
// locally. Dealer bytes: one party's shares of r >> d and MSB(r), 16 B per element.
#pragma once

#include "protocols/fss/dealing.h"
#include "protocols/fss/trunc_mask.h"

namespace marill {

struct TruncMaterial {
  RingTensor r;     // input mask
  RingTensor r_hi;  // r >> d
  RingTensor r_msb; // MSB(r)
};

TruncMaterial deal_trunc(Dealing& d, const Shape& shape, int bits);

// A truncation followed by a squaring, on one opening. The truncated value is y = P - R with P
// public (c >> d less the offset's) and R = t - K m h (t = r >> d, h = MSB(r), K = 2^(64-d),
// m = 1 - MSB(c) public): so y^2 = P^2 - 2 P R + R^2 with R^2 = t^2 - 2 K m (t h) + K^2 m h, local
// given dealt shares of t^2 and t h. Online 8 B per element in 1 round where trunc then square
// take 16 B in 2. Dealer bytes: 32 B per element (one party's shares of t, h, t^2, t h).
struct TruncSquareMaterial {
  TruncMaterial trunc;
  RingTensor t2, th;  // (r >> d)^2, (r >> d) MSB(r)
};
TruncSquareMaterial deal_trunc_square(Dealing& d, const Shape& shape, int bits);
// This party's share of (x >> d)^2 from the opened c (trunc_share's identity, squared).
RingTensor trunc_square_share(const RingTensor& c, const TruncSquareMaterial& m, int d, bool first);

}  // namespace marill
