// Values that fit in d < 64 bits travel as their low d bits, packed element-major without padding
// (protocols/ot/block.h's BitWriter): ceil(n d / 8) bytes for n values. Phantom tensors send the
// same byte count with no contents.
#pragma once

#include "protocols/comm/comm.h"
#include "protocols/ring/ring.h"

namespace marill {

void send_low_bits(Comm& comm, Role to, const RingTensor& t, int d);
// The values the peer sent with send_low_bits (phantom: a phantom tensor of `shape`).
RingTensor recv_low_bits(Comm& comm, Role from, const Shape& shape, int d, bool phantom);

}  // namespace marill
