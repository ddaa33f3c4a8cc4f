#include "protocols/ot/block.h"

#include <algorithm>
#include <stdexcept>

namespace marill {

void BitWriter::put(u64 value, int bits) {
  value &= low_bits_mask(bits);
  while (bits > 0) {
    const u64 byte = pos_ / 8;
    const int offset = static_cast<int>(pos_ % 8);
    const int take = std::min(bits, 8 - offset);
    bytes_[byte] |= static_cast<std::uint8_t>((value & low_bits_mask(take)) << offset);
    value >>= take;
    bits -= take;
    pos_ += static_cast<u64>(take);
  }
}

u64 BitReader::get(int bits) {
  if (pos_ + static_cast<u64>(bits) > n_bits_) throw ProtocolError("OT: a packed message is shorter than its agreed size");
  u64 out = 0;
  int done = 0;
  while (done < bits) {
    const u64 byte = pos_ / 8;
    const int offset = static_cast<int>(pos_ % 8);
    const int take = std::min(bits - done, 8 - offset);
    out |= (static_cast<u64>(data_[byte] >> offset) & low_bits_mask(take)) << done;
    done += take;
    pos_ += static_cast<u64>(take);
  }
  return out;
}

void require_bits(const std::vector<std::uint8_t>& choices, const char* what) {
  for (std::size_t i = 0; i < choices.size(); ++i)
    if (choices[i] > 1)
      throw std::invalid_argument(std::string(what) + ": choice " + std::to_string(i) + " is " + std::to_string(choices[i]) +
                                  ", not a bit");
}

}  // namespace marill
