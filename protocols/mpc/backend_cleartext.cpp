#include "protocols/mpc/backend_cleartext.h"

#include <stdexcept>

namespace marill {

Shared CleartextBackend::input(Role, const RingTensor& value) {
  if (value.is_phantom()) throw std::invalid_argument("cleartext backend: input needs real data");
  return Shared{value, {}, {}};
}

Shared CleartextBackend::mul(const Shared& a, const Shared& b) {
  OpScope op(ledger_, "mul");
  ledger_.record_macs(static_cast<u64>(a.numel()));
  require_same(a, b, "mul");
  return Shared{mul_elem(a.s0, b.s0), {}, {}};
}

Shared CleartextBackend::matmul(const Shared& a, const Shared& b) {
  OpScope op(ledger_, "matmul");
  ledger_.record_macs(matmul_macs(a.shape(), b.shape()));
  return Shared{marill::matmul(a.s0, b.s0), {}, {}};
}

Shared CleartextBackend::trunc(const Shared& x, int bits) {
  OpScope op(ledger_, "trunc");
  return Shared{shift_right_arith(x.s0, bits), {}, {}};
}

Shared CleartextBackend::ltz(const Shared& x, int bits, int low) {
  OpScope op(ledger_, "ltz");
  check_ltz_bits(bits, low);
  // bit (bits-1) of x: the sign whenever the caller's promise |x| < 2^(bits-1) holds, as in the
  // secure backends (which see only the low bits). Exact also where `low` would allow either.
  RingTensor b = shift_right_logical(shift_left(x.s0, 64 - bits), 63);
  return Shared{b, {}, {}};
}

}  // namespace marill
