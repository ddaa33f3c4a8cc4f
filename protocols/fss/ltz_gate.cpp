#include "protocols/fss/ltz_gate.h"

#include <cstring>
#include <stdexcept>
#include <string>

namespace marill {

namespace {
void check_ltz_gate_bits(int bits) {
  if (bits < 3 || bits > 64) throw std::invalid_argument("ltz: bits must be in [3, 64], got " + std::to_string(bits));
}
}  // namespace

Bytes ltz_serialize(const LtzKeys& k) {
  Bytes out(k.dcf.bytes);
  const size_t at = out.size();
  out.resize(at + k.r_hi.size() * 8);
  if (!k.r_hi.empty()) std::memcpy(out.data() + at, k.r_hi.data(), k.r_hi.size() * 8);
  return out;
}

LtzKeys ltz_deserialize(Bytes bytes, i64 count, int bits) {
  const size_t dcf_bytes = static_cast<size_t>(count) * dcf_key_bytes(bits - 1);
  if (bytes.size() != dcf_bytes + static_cast<size_t>(count) * 8)
    throw std::invalid_argument("comparison keys of " + std::to_string(bytes.size()) + " bytes for " + std::to_string(count) +
                                " elements of " + std::to_string(bits) + " bits");
  LtzKeys k;
  k.n_bits = bits;
  k.count = count;
  k.r_hi.resize(static_cast<size_t>(count));
  if (count) std::memcpy(k.r_hi.data(), bytes.data() + dcf_bytes, static_cast<size_t>(count) * 8);
  bytes.resize(dcf_bytes);
  k.dcf.n_bits = bits - 1;
  k.dcf.count = count;
  k.dcf.bytes = std::move(bytes);
  return k;
}

Bytes deal_ltz_keys(Dealing& d, const RingTensor& r, int bits, int cmp_shift) {
  const i64 n = r.numel();
  return d.keys(static_cast<u64>(n) * ltz_key_bytes(bits), [&] {
    RingTensor alpha = cmp_shift ? shift_right_logical(r, cmp_shift) : r;
    auto keys = ltz_gen(bits, alpha.data(), n, d.dealer_prg());
    return std::make_pair(ltz_serialize(keys.first), ltz_serialize(keys.second));
  });
}

LtzMaterial deal_ltz(Dealing& d, const Shape& shape, int bits) {
  check_ltz_gate_bits(bits);
  LtzMaterial m;
  m.r = d.mask(shape);
  m.keys = deal_ltz_keys(d, m.r, bits, 0);
  return m;
}

NegativePartMaterial deal_negative_part(Dealing& d, const Shape& shape, int bits) {
  NegativePartMaterial m;
  m.ltz = deal_ltz(d, shape, bits);
  m.u = d.mask(shape);
  m.ur = d.derived(shape, [&] { return mul_elem(m.u, m.ltz.r); });
  return m;
}

}  // namespace marill
