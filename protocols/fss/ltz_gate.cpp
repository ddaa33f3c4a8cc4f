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

LtzKeys ltz_deserialize(Bytes bytes, i64 count, int bits, int width) {
  const size_t W = static_cast<size_t>(width);
  const size_t dcf_bytes = static_cast<size_t>(count) * dcf_key_bytes(bits - 1, width);
  if (bytes.size() != dcf_bytes + static_cast<size_t>(count) * 8 * W)
    throw std::invalid_argument("comparison keys of " + std::to_string(bytes.size()) + " bytes for " + std::to_string(count) +
                                " elements of " + std::to_string(bits) + " bits" + (width > 1 ? " and " + std::to_string(width) + " payload words" : ""));
  LtzKeys k;
  k.n_bits = bits;
  k.count = count;
  k.width = width;
  k.r_hi.resize(static_cast<size_t>(count) * W);
  if (count) std::memcpy(k.r_hi.data(), bytes.data() + dcf_bytes, static_cast<size_t>(count) * 8 * W);
  bytes.resize(dcf_bytes);
  k.dcf.n_bits = bits - 1;
  k.dcf.width = width;
  k.dcf.count = count;
  k.dcf.bytes = std::move(bytes);
  return k;
}

Bytes deal_ltz_keys(Dealing& d, const RingTensor& r, int bits, int cmp_shift, const std::vector<RingTensor>& payload) {
  const i64 n = r.numel();
  const int width = 1 + static_cast<int>(payload.size());
  return d.keys(static_cast<u64>(n) * ltz_key_bytes(bits, width), [&] {
    RingTensor alpha = cmp_shift ? shift_right_logical(r, cmp_shift) : r;
    std::vector<u64> words;  // word-major, as ltz_gen takes them
    words.reserve(payload.size() * static_cast<size_t>(n));
    for (const RingTensor& p : payload) words.insert(words.end(), p.data(), p.data() + n);
    auto keys = ltz_gen(bits, alpha.data(), n, d.dealer_prg(), width, words.empty() ? nullptr : words.data());
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

LtzMaterial deal_negative_part(Dealing& d, const Shape& shape, int bits, int low) {
  check_ltz_gate_bits(bits - low);
  LtzMaterial m;
  m.r = d.mask(shape);
  m.keys = deal_ltz_keys(d, m.r, bits - low, low, {m.r});
  return m;
}

}  // namespace marill
