#include "actors/frame.h"

#include <cereal/archives/binary.hpp>

#include <cmath>
#include <cstring>
#include <sstream>

#include "protocols/comm/comm.h"

namespace marill {

namespace {
std::string header_bytes(const FrameHeader& h) {
  std::ostringstream os(std::ios::binary);
  {
    cereal::BinaryOutputArchive ar(os);
    FrameHeader copy = h;
    ar(copy);
  }
  return os.str();
}
}  // namespace

std::size_t frame_header_bytes() {
  static const std::size_t n = header_bytes(FrameHeader{}).size();
  return n;
}

std::vector<std::uint8_t> encode_frame(const FrameHeader& h, const std::uint8_t* payload, std::size_t n) {
  std::string hb = header_bytes(h);
  std::vector<std::uint8_t> out(hb.size() + n);
  std::memcpy(out.data(), hb.data(), hb.size());
  if (n) std::memcpy(out.data() + hb.size(), payload, n);
  return out;
}

Frame decode_frame(std::vector<std::uint8_t>&& bytes) {
  const std::size_t hs = frame_header_bytes();
  if (bytes.size() < hs)
    throw ProtocolError("malformed message: " + std::to_string(bytes.size()) + " bytes, shorter than a frame header");
  Frame f;
  try {
    std::istringstream is(std::string(reinterpret_cast<const char*>(bytes.data()), hs), std::ios::binary);
    cereal::BinaryInputArchive ar(is);
    ar(f.header);
  } catch (const std::exception& e) {
    throw ProtocolError(std::string("malformed frame header: ") + e.what());
  }
  if (f.header.magic != FrameHeader::kMagic) throw ProtocolError("malformed message: bad magic (not a marill frame)");
  // Fields the receiver turns into enums, flags and clocks: out-of-range values are malformed, not "something else".
  if (f.header.kind > FrameHeader::abort || f.header.phase > static_cast<std::uint8_t>(Phase::online) || f.header.phantom > 1)
    throw ProtocolError("malformed frame header: kind " + std::to_string(f.header.kind) + ", phase " + std::to_string(f.header.phase) +
                        ", phantom flag " + std::to_string(f.header.phantom));
  if (!std::isfinite(f.header.arrival) || f.header.arrival < 0)
    throw ProtocolError("malformed frame header: arrival time is not a finite non-negative number");
  const std::size_t body = bytes.size() - hs;
  const std::size_t expect = f.header.phantom ? 0 : f.header.payload_bytes;
  if (body != expect) {
    throw ProtocolError("malformed message: header declares " + std::to_string(expect) + " payload bytes, frame has " +
                        std::to_string(body));
  }
  bytes.erase(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(hs));
  f.payload = std::move(bytes);
  return f;
}

}  // namespace marill
