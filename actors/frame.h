// The wire format of one protocol message: a Cereal-serialized header, then the raw payload.
// The header carries what the simulated network needs (virtual arrival time, hop count) and what
// the receiver checks (sender, receiver, phase, declared payload size, sequence number).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace marill {

struct FrameHeader {
  static constexpr std::uint32_t kMagic = 0x314c524d;  // "MRL1"
  enum Kind : std::uint8_t { data = 0, abort = 1 };  // abort: two bytes, the failed role and its ErrorClass

  std::uint32_t magic = kMagic;
  std::uint8_t kind = data;
  std::uint8_t from = 0, to = 0;  // roles
  std::uint8_t phase = 1;         // Phase
  std::uint8_t phantom = 0;       // 1: payload elided, payload_bytes is the size it stands for
  std::uint64_t seq = 0;          // per directed link, from 0
  std::uint64_t payload_bytes = 0;
  std::uint64_t hops = 0;         // sender's hop count when sending
  double arrival = 0;             // virtual arrival time at the receiver

  template <class Archive>
  void serialize(Archive& ar) {
    ar(magic, kind, from, to, phase, phantom, seq, payload_bytes, hops, arrival);
  }
};

struct Frame {
  FrameHeader header;
  std::vector<std::uint8_t> payload;
};

// Serialized header size (fixed: the framing overhead of every message).
std::size_t frame_header_bytes();
std::vector<std::uint8_t> encode_frame(const FrameHeader& h, const std::uint8_t* payload, std::size_t n);
// Parses and validates bytes from the network. Throws ProtocolError on anything malformed:
// short buffer, bad magic, a kind, phase or phantom flag out of range, an arrival time that is not a
// finite non-negative number, or a payload whose size differs from the header's declaration. The only
// allocation is the fixed-size header copy: the payload stays in `bytes` (fuzz/frame_fuzzer.cpp).
Frame decode_frame(std::vector<std::uint8_t>&& bytes);

}  // namespace marill
