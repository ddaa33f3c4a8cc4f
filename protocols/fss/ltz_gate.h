// The comparison gate [x < 0] on `bits` bits (dcf.h: a DCF on bits-1 bits, Boyle et al. 2021, as
// LLAMA/SIGMA): the dealer masks x with r and deals DCF keys on r; online the parties open x + r and
// evaluate their keys. Dealer bytes: ltz_key_bytes(bits) per element to each party.
#pragma once

#include "protocols/fss/dcf.h"
#include "protocols/fss/dealing.h"

namespace marill {

struct LtzMaterial {
  RingTensor r;  // input mask (dealer: whole; party: share)
  Bytes keys;    // this party's serialized LtzKeys (empty on the dealer and in phantom runs)
};

LtzMaterial deal_ltz(Dealing& d, const Shape& shape, int bits);
// Comparison keys on an already dealt mask r (dealer: whole), keyed on r >> cmp_shift (the spline
// gate compares x's high bits only, spline.h).
Bytes deal_ltz_keys(Dealing& d, const RingTensor& r, int bits, int cmp_shift);

// The wire form of one party's keys: DCF keys, then the shares of r's high bit (8 B each).
Bytes ltz_serialize(const LtzKeys& k);
// Throws std::invalid_argument unless `bytes` holds exactly count keys of `bits` bits.
LtzKeys ltz_deserialize(Bytes bytes, i64 count, int bits);

}  // namespace marill
