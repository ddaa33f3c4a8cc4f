// The comparison gate [x < 0] on `bits` bits (dcf.h: a DCF on bits-1 bits, Boyle et al. 2021, as
// LLAMA/SIGMA): the dealer masks x with r and deals DCF keys on r; online the parties open x + r and
// evaluate their keys. Dealer bytes: ltz_key_bytes(bits) per element to each party.
#pragma once

#include <vector>

#include "protocols/fss/dcf.h"
#include "protocols/fss/dealing.h"

namespace marill {

struct LtzMaterial {
  RingTensor r;  // input mask (dealer: whole; party: share)
  Bytes keys;    // this party's serialized LtzKeys (empty on the dealer and in phantom runs)
};

// With low > 0 the keys compare x's bits [low, bits) only (Backend::ltz's `low`): keys on r >> low,
// evaluated at x^ >> low, which sees floor(x / 2^low) + {0, 1}: exact for x >= 0 and x < -2^low.
// Dealer bytes: ltz_key_bytes(bits - low).
LtzMaterial deal_ltz(Dealing& d, const Shape& shape, int bits, int low = 0);
// Comparison keys on an already dealt mask r (dealer: whole), keyed on r >> cmp_shift (the spline
// gate compares x's high bits only, spline.h), carrying the payload words p_1.. (dealer: whole
// values shaped as r; ltz_gen's payload): the parties get shares of [x < 0] p_j, width
// 1 + payload.size(). value_bytes 1: outputs wanted mod 2^8 only (dcf.h).
Bytes deal_ltz_keys(Dealing& d, const RingTensor& r, int bits, int cmp_shift, const std::vector<RingTensor>& payload = {},
                    int value_bytes = 8);

// x's negative part [x < 0]·x = min(x, 0), as SIGMA's DReLU and select: the comparison key's value
// words are one byte (dcf.h: 17 B per level, 4 levels ended early), so it gives shares of
// b = [x < 0] mod 2^8, whose low bits XOR-share b. The parties open c = b ^ u (1 bit; u a dealt
// uniform bit, so c is uniform), then b = c + (1 - 2c) u and b·r = c r + (1 - 2c) u r are linear in
// the dealt shares of u and u r, and [x<0]·x = b·x^ - b·r with x^ = x + r open. Online 8 B and 1 bit
// per element in 2 rounds; dealer bytes ltz_key_bytes(bits - low, 1, 1) per element to each party
// and 16 B (u, u r) to one of them (the other's shares are PRG draws). The width-2 key that carried r
// (LLAMA's vector payload, 1 round) cost 32 B per level.
struct NegativePartMaterial {
  RingTensor r;   // input mask
  Bytes keys;     // comparison keys on r >> low, one-byte value words
  RingTensor u;   // the select bit (dealer: whole, 0 or 1; party: its share)
  RingTensor ur;  // u r
};
NegativePartMaterial deal_negative_part(Dealing& d, const Shape& shape, int bits, int low = 0);

// The wire form of one party's keys: DCF keys, then the shares of r_hi p_j (value_bytes each).
Bytes ltz_serialize(const LtzKeys& k);
// Throws std::invalid_argument unless `bytes` holds exactly count keys of `bits` bits and `width`
// payload words of value_bytes.
LtzKeys ltz_deserialize(Bytes bytes, i64 count, int bits, int width = 1, int value_bytes = 8);

}  // namespace marill
