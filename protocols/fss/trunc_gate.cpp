#include "protocols/fss/trunc_gate.h"

namespace marill {

TruncMaterial deal_trunc(Dealing& d, const Shape& shape, int bits) {
  check_trunc_bits(bits);
  TruncMaterial m;
  m.r = d.mask(shape);
  auto parts = d.derived({shape, shape}, [&] {
    return std::vector<RingTensor>{shift_right_logical(m.r, bits), shift_right_logical(m.r, 63)};
  });
  m.r_hi = std::move(parts[0]);
  m.r_msb = std::move(parts[1]);
  return m;
}

}  // namespace marill
