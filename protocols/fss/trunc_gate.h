// Truncation by d bits with a dealt mask whose high part and MSB are known in shares (trunc_mask.h
// has the identity and its error bound): open c = x + 2^62 + r, then each party computes its share
// locally. Dealer bytes: the server's shares of r >> d and MSB(r), 16 B per element.
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

}  // namespace marill
