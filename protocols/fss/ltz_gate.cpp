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
  const size_t at = out.size(), vb = static_cast<size_t>(k.value_bytes);
  out.resize(at + k.r_hi.size() * vb);
  for (size_t i = 0; i < k.r_hi.size(); ++i) std::memcpy(out.data() + at + i * vb, &k.r_hi[i], vb);  // low bytes
  return out;
}

LtzKeys ltz_deserialize(Bytes bytes, i64 count, int bits, int width, int value_bytes) {
  const size_t W = static_cast<size_t>(width), vb = static_cast<size_t>(value_bytes);
  const size_t dcf_bytes = static_cast<size_t>(count) * dcf_key_bytes(bits - 1, width, value_bytes);
  if (bytes.size() != dcf_bytes + static_cast<size_t>(count) * vb * W)
    throw std::invalid_argument("comparison keys of " + std::to_string(bytes.size()) + " bytes for " + std::to_string(count) +
                                " elements of " + std::to_string(bits) + " bits" + (width > 1 ? " and " + std::to_string(width) + " payload words" : "") +
                                (value_bytes != 8 ? " of " + std::to_string(value_bytes) + " bytes" : ""));
  LtzKeys k;
  k.n_bits = bits;
  k.count = count;
  k.width = width;
  k.value_bytes = value_bytes;
  k.r_hi.assign(static_cast<size_t>(count) * W, 0);
  for (size_t i = 0; i < k.r_hi.size(); ++i) std::memcpy(&k.r_hi[i], bytes.data() + dcf_bytes + i * vb, vb);
  bytes.resize(dcf_bytes);
  k.dcf.n_bits = bits - 1;
  k.dcf.width = width;
  k.dcf.value_bytes = value_bytes;
  k.dcf.count = count;
  k.dcf.bytes = std::move(bytes);
  return k;
}

Bytes deal_ltz_keys(Dealing& d, const RingTensor& r, int bits, int cmp_shift, const std::vector<RingTensor>& payload,
                    int value_bytes) {
  const i64 n = r.numel();
  const int width = 1 + static_cast<int>(payload.size());
  return d.keys(static_cast<u64>(n) * ltz_key_bytes(bits, width, value_bytes), [&] {
    RingTensor alpha = cmp_shift ? shift_right_logical(r, cmp_shift) : r;
    std::vector<u64> words;  // word-major, as ltz_gen takes them
    words.reserve(payload.size() * static_cast<size_t>(n));
    for (const RingTensor& p : payload) words.insert(words.end(), p.data(), p.data() + n);
    auto keys = ltz_gen(bits, alpha.data(), n, d.dealer_prg(), width, words.empty() ? nullptr : words.data(), value_bytes);
    return std::make_pair(ltz_serialize(keys.first), ltz_serialize(keys.second));
  });
}

LtzMaterial deal_ltz(Dealing& d, const Shape& shape, int bits, int low) {
  check_ltz_gate_bits(bits - low);
  LtzMaterial m;
  m.r = d.mask(shape);
  m.keys = deal_ltz_keys(d, m.r, bits - low, low);
  return m;
}

NegativePartMaterial deal_negative_part(Dealing& d, const Shape& shape, int bits, int low) {
  check_ltz_gate_bits(bits - low);
  NegativePartMaterial m;
  m.r = d.mask(shape);
  m.keys = deal_ltz_keys(d, m.r, bits - low, low, {}, 1);
  auto shares = d.derived({shape, shape}, [&] {
    RingTensor u(shape), ur(shape);
    Prg& g = d.dealer_prg();
    for (i64 e = 0; e < u.numel(); ++e) {
      u.data()[e] = g.next_u64() & 1;
      ur.data()[e] = u.data()[e] * m.r.data()[e];
    }
    return std::vector<RingTensor>{std::move(u), std::move(ur)};
  });
  m.u = std::move(shares[0]);
  m.ur = std::move(shares[1]);
  return m;
}

}  // namespace marill
