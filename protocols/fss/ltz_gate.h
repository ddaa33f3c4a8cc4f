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

// x's negative part [x < 0]·x = min(x, 0) on the comparison's own opening: with x^ = x + r open,
// [x<0]·x = [x<0]·x^ - [x<0]·r, and [x<0]·r = h·r + u·r by one more opening h = [x<0] - u of a
// dealt mask u, with u·r dealt. Online 16 B per element per party in 2 rounds, against 24 B for an
// ltz and a Beaver product (which would open x again). Dealer bytes: the ltz's and u·r.
struct NegativePartMaterial {
  LtzMaterial ltz;
  RingTensor u, ur;
};
NegativePartMaterial deal_negative_part(Dealing& d, const Shape& shape, int bits);

// The wire form of one party's keys: DCF keys, then the shares of r's high bit (8 B each).
Bytes ltz_serialize(const LtzKeys& k);
// Throws std::invalid_argument unless `bytes` holds exactly count keys of `bits` bits.
LtzKeys ltz_deserialize(Bytes bytes, i64 count, int bits);

}  // namespace marill
